# xc_task_testing.sh: call a task of a task file as the runner would run it in a
# container, and check how it ended: for a task image's unit tests, with sh and jq and
# no container engine. Source it from a test script beside the sdk/ folder:
#
#   #!/bin/sh
#   . "$(dirname -- "$0")/sdk/xc_task_testing.sh"
#   xc_call "$(dirname -- "$0")/tasks.sh" hello '{"who": "you", "times": 2}'
#   xc_expect status "$XC_STATUS" Completed
#   xc_expect greeting "$(xc_output greeting)" "Hello, you! Hello, you!"
#   xc_expect progress "$XC_PROGRESS" "0.5 greeting you 2 times"
#   xc_tests_done
#
# xc_call TASKFILE TASK [INPUTS]  runs the task through xc_task.sh (beside this file,
#   or $XC_TASK_SH) with INPUTS (a JSON object; default {}) in its envelope; the
#   runner fills in the catalog's defaults first, xc_call does not. It sets:
#     XC_STATUS    Completed or Error
#     XC_OUTPUTS   the outputs, a JSON object ({} unless Completed)
#     XC_MESSAGE   the Error's message ("exit code N: <last stderr line>" for a
#                  failing command), XC_LEVEL its errorLevel ("" when none)
#     XC_PROGRESS  one line per InProgress message: "FRACTION MESSAGE"
#     XC_LOG       what the task wrote on stderr; XC_EXIT xc_task.sh's exit status
# xc_output NAME  prints output NAME (a string as is, anything else as JSON).
# xc_expect WHAT ACTUAL EXPECTED  counts a check; a mismatch is a line on stderr.
# xc_tests_done  prints the count, and exits 1 if a check failed.

XC_TASK_SH=${XC_TASK_SH:-$(dirname -- "$0")/sdk/xc_task.sh}
XC__CHECKS=0
XC__FAILED=0

xc_call() {
    if [ $# -lt 2 ] || [ $# -gt 3 ]; then
        printf '%s\n' "usage: xc_call TASKFILE TASK [INPUTS]" >&2
        return 2
    fi
    xc__out=$(mktemp "${TMPDIR:-/tmp}/xc_test.XXXXXX") || return 2
    xc__err=$(mktemp "${TMPDIR:-/tmp}/xc_test.XXXXXX") || return 2
    xc__inputs=${3:-'{}'}
    if ! jq -cn --arg task "$2" --argjson inputs "$xc__inputs" \
            '{protocol: 1, namespace: "test", task: $task, taskInstanceId: "test", inputs: $inputs}' \
            >"$xc__out"; then
        printf '%s\n' "xc_call: the inputs are not a JSON object: ${3-}" >&2
        rm -f "$xc__out" "$xc__err"
        return 2
    fi
    XC_EXIT=0
    sh "$XC_TASK_SH" "$1" <"$xc__out" >"$xc__out.stdout" 2>"$xc__err" || XC_EXIT=$?
    XC_LOG=$(cat "$xc__err")
    XC_STATUS=$(jq -rs 'map(select(.type == "result" or .status == "Error"))
        | if length == 0 then "" elif .[0].type == "result" then "Completed" else "Error" end' \
        "$xc__out.stdout")
    XC_OUTPUTS=$(jq -cs 'map(select(.type == "result"))[0].outputs // {}' "$xc__out.stdout")
    XC_MESSAGE=$(jq -rs 'map(select(.status == "Error"))[0].message // ""' "$xc__out.stdout")
    XC_LEVEL=$(jq -rs 'map(select(.status == "Error"))[0].errorLevel // ""' "$xc__out.stdout")
    XC_PROGRESS=$(jq -r 'select(.status == "InProgress")
        | "\(.progressPercentage // "")\(if .message then " " + .message else "" end)"' \
        "$xc__out.stdout")
    rm -f "$xc__out" "$xc__out.stdout" "$xc__err"
}

xc_output() {
    printf '%s' "$XC_OUTPUTS" | jq -j --arg n "$1" '.[$n] | if type == "string" then . else tojson end'
}

xc_expect() {
    XC__CHECKS=$((XC__CHECKS + 1))
    if [ "$2" != "$3" ]; then
        XC__FAILED=$((XC__FAILED + 1))
        printf 'FAIL %s: expected %s, got %s\n' "$1" "'$3'" "'$2'" >&2
        [ -z "${XC_LOG-}" ] || printf '  the task'"'"'s stderr:\n%s\n' "$XC_LOG" >&2
    fi
}

xc_tests_done() {
    printf '%s checks, %s failed\n' "$XC__CHECKS" "$XC__FAILED"
    [ "$XC__FAILED" = 0 ] || exit 1
    exit 0
}
