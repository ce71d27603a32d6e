# {{name}}: the tasks of this image, one function task_<name> each, run by the
# xc_task.sh helper under set -e.
#
# Inputs: xc_input, xc_int, xc_number, xc_bool NAME. xc_progress FRACTION MESSAGE
# reports progress; xc_result NAME=TEXT NAME:=JSON and xc_error MESSAGE [LEVEL]
# end the task. A failing command fails it with "exit code N: <last stderr line>".

task_hello() {
    who=$(xc_input who)
    times=$(xc_int times)
    xc_progress 0.5 "greeting $who $times times"
    greeting=''
    i=0
    while [ "$i" -lt "$times" ]; do
        greeting="$greeting${greeting:+ }Hello, $who!"
        i=$((i + 1))
    done
    xc_result greeting="$greeting"
}
