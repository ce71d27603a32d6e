module {{name}}

go 1.19

require xc-scenario-runner.invalid/xctask v0.0.0

// The SDK is the folder sdk/ (a copy of the runner's): nothing is downloaded.
replace xc-scenario-runner.invalid/xctask => ./sdk
