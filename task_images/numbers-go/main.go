// numbers: a task image in Go (namespace "numbers"), on the xctask SDK.
// Its catalog is catalog.json; its examples are examples.json.
package main

import (
	"fmt"
	"math"

	"xc-scenario-runner.invalid/xctask"
)

// maxPrimeLimit keeps count_primes within a few seconds.
const maxPrimeLimit = 10_000_000

func main() {
	xctask.Run(xctask.Tasks{
		"divide":       divide,
		"count_primes": countPrimes,
		"sqrt":         squareRoot,
	})
}

// divide: typed inputs and outputs; a zero divisor panics, and the task ends in
// Error "panic (runtime.Error): runtime error: integer divide by zero".
func divide(t *xctask.Task) (xctask.Outputs, error) {
	dividend, err := t.Int("dividend")
	if err != nil {
		return nil, err
	}
	divisor, err := t.Int("divisor")
	if err != nil {
		return nil, err
	}
	quotient, remainder := dividend/divisor, dividend%divisor
	return xctask.Outputs{
		"quotient":  quotient,
		"remainder": remainder,
		"ratio":     float64(dividend) / float64(divisor),
		"exact":     remainder == 0,
	}, nil
}

// countPrimes sieves in ten slices, reporting its progress after each one.
func countPrimes(t *xctask.Task) (xctask.Outputs, error) {
	limit, err := t.Int("limit")
	if err != nil {
		return nil, err
	}
	if limit > maxPrimeLimit {
		return nil, xctask.Fail(xctask.LevelMinor,
			"limit %d is over the maximum of %d", limit, maxPrimeLimit)
	}
	if limit < 2 {
		return xctask.Outputs{"count": 0, "largest": 0}, nil
	}
	composite := make([]bool, limit+1)
	count, largest, n := 0, int64(0), int64(2)
	for tenth := int64(1); tenth <= 10; tenth++ {
		for upper := limit * tenth / 10; n <= upper; n++ {
			if composite[n] {
				continue
			}
			count, largest = count+1, n
			for multiple := n * n; multiple <= limit; multiple += n {
				composite[multiple] = true
			}
		}
		t.Progress(float64(tenth)/10, fmt.Sprintf("%d primes up to %d", count, n-1))
	}
	return xctask.Outputs{"count": count, "largest": largest}, nil
}

// squareRoot fails on purpose, with an error level, for a negative input.
func squareRoot(t *xctask.Task) (xctask.Outputs, error) {
	x, err := t.Float("x")
	if err != nil {
		return nil, err
	}
	if x < 0 {
		return nil, xctask.Fail(xctask.LevelCritical,
			"cannot take the square root of %g: it is negative", x)
	}
	return xctask.Outputs{"root": math.Sqrt(x)}, nil
}
