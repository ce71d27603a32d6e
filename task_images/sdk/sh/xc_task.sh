#!/bin/sh
# xc_task.sh: run POSIX shell functions as XC Scenario tasks (protocol 1), with jq.
#
#   sh xc_task.sh TASKFILE < envelope
#
# TASKFILE is sourced; it defines one function per task, named task_<name>:
#
#   task_hello() {
#       who=$(xc_input who)
#       times=$(xc_int times)                # 3 or "3"; the task fails otherwise
#       xc_progress 0.5 "greeting $who"
#       xc_result greeting="Hello, $who!" times:="$times"
#   }
#
# The task's function runs in a subshell with `set -e`. What it writes on stdout
# or stderr is log output (stderr): protocol messages go through a descriptor of
# their own (7). Its outcome:
#   xc_result NAME=TEXT NAME:=JSON ...   Completed with these outputs; ends the task.
#   xc_result - < OBJECT                 the same, the outputs a JSON object on stdin.
#   xc_error MESSAGE [LEVEL]             Error (level None, Minor, Critical, Fatal); ends the task.
#   returning 0 without either           Completed with no outputs.
#   failing (a command fails under set -e, `exit 3`, a shell error)
#                                        Error "exit code N: <its last line on stderr>".
# More: xc_progress FRACTION [MESSAGE] (InProgress; FRACTION a number from 0 to 1),
# xc_input NAME (the input's value: a string as is, anything else as JSON),
# xc_int / xc_number / xc_bool NAME (checked: 42 or "42", 1.5 or "1.5", true or
# "true"), xc_object NAME (an Object input, as JSON), xc_strings / xc_ints /
# xc_numbers / xc_bools / xc_objects NAME (a multi-value input, one item a line),
# xc_inputs (all inputs, a JSON object), xc_secret NAME (the secret the runner
# gives the image, /run/secrets/NAME), and $XC_TASK, $XC_NAMESPACE,
# $XC_TASK_INSTANCE_ID. A helper given wrong arguments says why on stderr and
# returns 2, which fails the task under set -e. Values travel as command-line
# arguments (each at most 128 KiB); $(...) drops a value's trailing newlines.
#
# Exit status: 0 once the task ran, whatever its outcome; 2 when it could not
# start (bad envelope, unknown task, no jq), after an Error message saying why.
# Needs a writable $TMPDIR or /tmp (task containers have /tmp).

XC_SDK_VERSION=1.1.0 # task_images/sdk/VERSION of the runner; it speaks protocol 1
XC__NUMBER='^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'
XC__INTEGER='^\s*[-+]?[0-9]+\s*$'

xc__warn() { printf 'xc_task.sh: %s\n' "$*" >&2; }
xc__complain() { printf '%s\n' "$*" >&2; } # a helper's wrong call: this line ends up in the Error

# Send one message line ($1); $2 = 1 for a terminal one. The first terminal one
# wins (mkdir is atomic, so even concurrent subshells agree).
xc__send() {
    if [ -d "$XC__DIR/terminal" ] || { [ "$2" = 1 ] && ! mkdir "$XC__DIR/terminal" 2>/dev/null; }; then
        xc__warn "dropped a message sent after the task's terminal message: $1"
        return 0
    fi
    printf '%s\n' "$1" >&7
}

xc__error_line() {  # MESSAGE [LEVEL]: an Error message line
    jq -cn --arg m "$1" --arg l "${2-}" \
        '{type: "notify", status: "Error", message: $m} + (if $l == "" then {} else {errorLevel: $l} end)'
}

xc_progress() {
    if [ $# -lt 1 ] || [ $# -gt 2 ]; then
        xc__complain "usage: xc_progress FRACTION [MESSAGE]"
        return 2
    fi
    if ! xc__line=$(jq -cn --arg f "$1" --arg m "${2-}" --arg has_m "$#" --arg re "$XC__NUMBER" '
            if ($f | test($re)) and ($f | tonumber | . >= 0 and . <= 1)
            then {type: "notify", status: "InProgress"}
                 + (if $has_m == "2" then {message: $m} else {} end)
                 + {progressPercentage: ($f | tonumber)}
            else empty end') || [ -z "$xc__line" ]; then
        xc__complain "xc_progress: fraction '$1' is not a number in [0, 1]"
        return 2
    fi
    xc__send "$xc__line" 0
}

xc_error() {
    if [ $# -lt 1 ] || [ $# -gt 2 ]; then
        xc__complain "usage: xc_error MESSAGE [LEVEL]"
        return 2
    fi
    case ${2-} in
        '' | None | Minor | Critical | Fatal) ;;
        *)
            xc__complain "xc_error: level '$2' is not one of None, Minor, Critical, Fatal"
            return 2
            ;;
    esac
    if ! xc__line=$(xc__error_line "$1" "${2-}"); then
        xc__complain "xc_error: the message cannot be sent (longer than 128 KiB?)"
        return 2
    fi
    xc__send "$xc__line" 1
    exit 0
}

xc_result() {
    if [ "${1-}" = - ] && [ $# -eq 1 ]; then
        if ! xc__outputs=$(jq -cs 'if length == 1 and (.[0] | type) == "object" then .[0]
                else error("") end' 2>/dev/null); then
            xc__complain "xc_result: stdin is not a JSON object"
            return 2
        fi
    else
        xc__outputs='{}'
        for xc__arg in "$@"; do
            xc__name=${xc__arg%%=*}
            xc__value=${xc__arg#*=}
            xc__as=--arg
            case $xc__name in *:) xc__name=${xc__name%:} xc__as=--argjson ;; esac
            if [ "$xc__arg" = "$xc__name" ] || [ -z "$xc__name" ]; then
                xc__complain "xc_result: '$xc__arg' is not NAME=TEXT or NAME:=JSON"
                return 2
            fi
            if ! xc__outputs=$(printf '%s' "$xc__outputs" | jq -c --arg k "$xc__name" \
                    "$xc__as" v "$xc__value" '. + {($k): $v}' 2>/dev/null); then
                xc__complain "xc_result: the value of $xc__name is not JSON: $xc__value"
                return 2
            fi
        done
    fi
    if ! xc__line=$(printf '%s' "$xc__outputs" | jq -c '{type: "result", outputs: .}'); then
        xc__complain "xc_result: the outputs cannot be sent"
        return 2
    fi
    xc__send "$xc__line" 1
    exit 0
}

xc_inputs() { jq -c '.inputs // {}' "$XC__DIR/envelope"; }

# xc__input KIND DESCRIPTION FILTER NAME: print input NAME through the jq
# FILTER, which yields null when the value is not DESCRIPTION; else say why and
# return 2.
xc__input() {
    if [ $# -ne 4 ]; then
        xc__complain "usage: xc_$1 NAME"
        return 2
    fi
    xc__value=$(jq -j --arg n "$4" --arg int "$XC__INTEGER" --arg num "$XC__NUMBER" "
        .inputs[\$n] | if . == null then \"m\" else (($3) as \$v
        | if \$v == null then \"w\" + tojson else \"v\" + \$v end) end" "$XC__DIR/envelope") || return 2
    case $xc__value in
        v*) printf '%s' "${xc__value#v}" ;;
        m) xc__complain "xc_$1: input '$4' is missing" && return 2 ;;
        *) xc__complain "xc_$1: input '$4' is not $2: ${xc__value#w}" && return 2 ;;
    esac
}

xc_input() { xc__input input "a value" 'if type == "string" then . else tojson end' "$@"; }

# What each typed accessor makes of one value (a jq filter: null when it is not one).
XC__INT_OF='if type == "number" and . == floor then tostring
    elif type == "string" and test($int)
    then gsub("^\\s+|\\s+$"; "") | ltrimstr("+") | sub("^(?<s>-?)0+(?=[0-9])"; "\(.s)")
    else null end'
XC__NUMBER_OF='(if type == "number" then .
    elif type == "string" and test($num) then tonumber else null end)
    | if . != null and fabs < 1.7976931348623157e308 then tostring else null end'
XC__BOOL_OF='if type == "boolean" then tostring
    elif type == "string" and (ascii_downcase | . == "true" or . == "false")
    then ascii_downcase else null end'
XC__OBJECT_OF='if type == "object" then tojson else null end'

xc_int() { xc__input int "an integer" "$XC__INT_OF" "$@"; }
xc_number() { xc__input number "a finite number" "$XC__NUMBER_OF" "$@"; }
xc_bool() { xc__input bool "a boolean" "$XC__BOOL_OF" "$@"; }

# Structured inputs: xc_object NAME prints an Object input as one line of JSON; a
# multi-value input (allowMultipleValues, a JSON array) prints one item a line,
# each read as its type's accessor reads one value: xc_strings (a string holding a
# line break is refused: read it with xc_input NAME and jq), xc_ints, xc_numbers,
# xc_bools, and xc_objects (one line of JSON each). A wrong item is named 'NAME[i]'.
xc_object() { xc__input object "a JSON object" "$XC__OBJECT_OF" "$@"; }
xc_strings() {
    xc__list strings "a string on one line" \
        'if type == "string" and (contains("\n") | not) then . else null end' "$@"
}
xc_ints() { xc__list ints "an integer" "$XC__INT_OF" "$@"; }
xc_numbers() { xc__list numbers "a finite number" "$XC__NUMBER_OF" "$@"; }
xc_bools() { xc__list bools "a boolean" "$XC__BOOL_OF" "$@"; }
xc_objects() { xc__list objects "a JSON object" "$XC__OBJECT_OF" "$@"; }

# xc__list KIND DESCRIPTION FILTER NAME: print each item of the array input NAME
# through the jq FILTER (null: the item is not DESCRIPTION), one a line; else say
# which item is wrong and return 2.
xc__list() {
    if [ $# -ne 4 ]; then
        xc__complain "usage: xc_$1 NAME"
        return 2
    fi
    xc__value=$(jq -j --arg n "$4" --arg int "$XC__INTEGER" --arg num "$XC__NUMBER" "
        def one: if . == null then null else $3 end;
        .inputs[\$n] | if . == null then \"m\"
        elif type != \"array\" then \"w\" + tojson
        else (first(to_entries[] | select(.value | one == null)) // null) as \$bad
            | if \$bad == null then \"v\" + (map(one + \"\\n\") | add // \"\") + \".\"
              elif \$bad.value == null then \"i\(\$bad.key) null\"
              else \"i\(\$bad.key) \(\$bad.value | tojson)\" end end" "$XC__DIR/envelope") || return 2
    case $xc__value in
        v*) xc__value=${xc__value#v} && printf '%s' "${xc__value%.}" ;; # `.`: $(...) keeps the last \n
        m) xc__complain "xc_$1: input '$4' is missing" && return 2 ;;
        w*) xc__complain "xc_$1: input '$4' is not a list (a JSON array): ${xc__value#w}" && return 2 ;;
        *)
            xc__index=${xc__value#i}
            xc__index=${xc__index%% *}
            xc__item=${xc__value#i"$xc__index" }
            if [ "$xc__item" = null ]; then
                xc__complain "xc_$1: input '$4[$xc__index]' is missing"
            else
                xc__complain "xc_$1: input '$4[$xc__index]' is not $2: $xc__item"
            fi
            return 2
            ;;
    esac
}

# xc_secret NAME: the secret the runner gives the task's image under NAME (the file
# ${XC_TASK_SECRETS_DIR:-/run/secrets}/NAME), as is; returns 2 when it is given none.
xc_secret() {
    xc__name=${1-}
    case $xc__name in
        '' | [!A-Za-z0-9]* | *[!A-Za-z0-9] | *..* | *[!A-Za-z0-9_.-]*) xc__name='' ;;
    esac
    if [ $# -ne 1 ] || [ -z "$xc__name" ] || [ ${#xc__name} -gt 64 ]; then
        xc__complain "xc_secret: not a secret name: ${1-}"
        return 2
    fi
    xc__file=${XC_TASK_SECRETS_DIR:-/run/secrets}/$xc__name
    if [ ! -f "$xc__file" ]; then
        xc__complain "xc_secret: secret '$xc__name' is not given to this task (no $xc__file)"
        return 2
    fi
    cat "$xc__file"
}

# Startup failures: an Error message, then exit status 2.
xc__setup_error() {
    if [ -n "${XC__DIR-}" ]; then
        xc__send "$(xc__error_line "$1")" 1
    else
        printf '%s\n' "$(xc__error_line "$1")" >&7
    fi
    exit 2
}

# On exit: when the shell itself stopped early (say, a syntax error in the task
# file), no message went out yet: say so. Then remove the scratch directory.
xc__on_exit() {
    xc__code=$?
    if [ ! -d "$XC__DIR/terminal" ]; then
        xc__send "$(xc__error_line "the task file $XC__FILE stopped the shell (exit code $xc__code) before a task ran; see stderr")" 1
        xc__code=2
    fi
    rm -rf "$XC__DIR"
    exit "$xc__code"
}

xc__read_envelope() {
    cat >"$XC__DIR/stdin" || xc__setup_error "invalid envelope: cannot read stdin"
    xc__problem=$(jq -rs '
        if length == 0 then "no envelope on stdin"
        elif length > 1 then "more than one JSON value on stdin"
        else .[0] | if type != "object" then "not a JSON object"
        elif .protocol != 1 then "unsupported protocol \(.protocol // "(none)" | tojson): this SDK speaks protocol 1"
        elif (.task | type) != "string" or .task == "" then "no task name"
        elif (.inputs // {} | type) != "object" then "the inputs are not a JSON object"
        else "" end end' "$XC__DIR/stdin" 2>&1) || xc__problem="not JSON ($xc__problem)"
    [ -z "$xc__problem" ] || xc__setup_error "invalid envelope: $xc__problem"
    jq -s '.[0]' "$XC__DIR/stdin" >"$XC__DIR/envelope" && rm -f "$XC__DIR/stdin"
    XC_TASK=$(jq -j .task "$XC__DIR/envelope")
    XC_NAMESPACE=$(jq -j '.namespace // ""' "$XC__DIR/envelope")
    XC_TASK_INSTANCE_ID=$(jq -j '.taskInstanceId // ""' "$XC__DIR/envelope")
}

# Run the task's function in a subshell with set -e; its stdout and stderr go
# to stderr, and to a file for the Error message should it fail.
xc__run_task() {
    { (set -e; "task_$XC_TASK"); echo "$?" >"$XC__DIR/status"; } 2>&1 | tee "$XC__DIR/log" >&2
    xc__status=$(cat "$XC__DIR/status")
    if [ -d "$XC__DIR/terminal" ]; then
        return 0
    elif [ "$xc__status" = 0 ]; then
        xc__send '{"type":"result","outputs":{}}' 1
    else
        xc__last=$(tail -n 1 "$XC__DIR/log" | cut -c 1-2000)
        xc__send "$(xc__error_line "exit code $xc__status${xc__last:+: $xc__last}")" 1
    fi
}

xc__main() {
    # fd 7: protocol messages; fd 1 (stdout) is stderr from here on.
    exec 7>&1 1>&2
    if ! command -v jq >/dev/null 2>&1; then
        printf '%s\n' '{"type":"notify","status":"Error","message":"xc_task.sh needs jq, which is not installed"}' >&7
        exit 2
    fi
    [ $# -eq 1 ] || xc__setup_error "usage: sh xc_task.sh TASKFILE < envelope"
    XC__DIR=$(mktemp -d "${TMPDIR:-/tmp}/xc_task.XXXXXX") \
        || xc__setup_error "xc_task.sh cannot create a directory in ${TMPDIR:-/tmp}"
    trap xc__on_exit EXIT
    XC__FILE=$1
    xc__read_envelope
    [ -f "$1" ] && [ -r "$1" ] || xc__setup_error "cannot read the task file $1"
    # Only names a function can have; so no command other than a task_ one is run.
    case $XC_TASK in
        [!A-Za-z_]* | *[!A-Za-z0-9_]*) xc__setup_error "unknown task '$XC_TASK' in $1" ;;
    esac
    # shellcheck disable=SC1090 # the task file is the argument
    case $1 in
        */*) . "$1" ;;
        *) . "./$1" ;; # `.` looks for a bare name on the PATH
    esac
    case $(command -V "task_$XC_TASK" 2>/dev/null) in
        *function*) ;;
        *) xc__setup_error "unknown task '$XC_TASK': $1 has no function task_$XC_TASK" ;;
    esac
    xc__run_task
    exit 0
}

xc__main "$@"
