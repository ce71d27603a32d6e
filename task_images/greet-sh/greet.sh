# greet: a task image in POSIX shell (namespace "greet"), on the xc_task.sh
# helper (task_images/sdk/sh/xc_task.sh), which sources this file and runs the
# function task_<name> of the task the envelope names. Its catalog is
# catalog.json; its examples are examples.json.

# Typed inputs (String, Integer, Boolean) and outputs (String, Integer).
task_hello() {
    who=$(xc_input who)
    times=$(xc_int times)
    shout=$(xc_bool shout)
    if [ "$times" -lt 1 ] || [ "$times" -gt 10 ]; then
        xc_error "times must be from 1 to 10, not $times" Minor
    fi
    greeting="Hello, $who!"
    i=1
    while [ "$i" -lt "$times" ]; do
        greeting="$greeting Hello, $who!"
        i=$((i + 1))
    done
    if [ "$shout" = true ]; then
        greeting=$(printf '%s' "$greeting" | tr '[:lower:]' '[:upper:]')
    fi
    characters=$(jq -n --arg g "$greeting" '$g | length')
    xc_result greeting="$greeting" characters:="$characters"
}

# Reports its progress once a second.
task_countdown() {
    seconds=$(xc_int seconds)
    if [ "$seconds" -lt 0 ] || [ "$seconds" -gt 60 ]; then
        xc_error "seconds must be from 0 to 60, not $seconds" Minor
    fi
    i=0
    while [ "$i" -lt "$seconds" ]; do
        xc_progress "$(jq -n "$i / $seconds")" "$((seconds - i)) seconds to go"
        sleep 1
        i=$((i + 1))
    done
    xc_result message="Liftoff after $seconds seconds"
}

# Fails on purpose, with an error level.
task_fail() {
    reason=$(xc_input reason)
    xc_error "failed on purpose: $reason" Critical
}

# Fails like a broken script: a command fails, and set -e stops the task.
task_crash() {
    cat /no/such/file
    xc_result
}
