#!/bin/sh
# {{name}}: the unit tests of its tasks, run through xc_task.sh as the runner would run
# them in a container (xc_task_testing.sh's xc_call), with no container engine:
#   sh test_tasks.sh
here=$(dirname -- "$0")
. "$here/sdk/xc_task_testing.sh"

xc_call "$here/tasks.sh" hello '{"who": "you", "times": 2}'
xc_expect status "$XC_STATUS" Completed
xc_expect greeting "$(xc_output greeting)" "Hello, you! Hello, you!"
xc_expect progress "$XC_PROGRESS" "0.5 greeting you 2 times"

xc_call "$here/tasks.sh" hello '{"who": "you", "times": "many"}'
xc_expect status "$XC_STATUS" Error
xc_expect message "$XC_MESSAGE" "exit code 2: xc_int: input 'times' is not an integer: \"many\""

xc_tests_done
