module xc-scenario-runner.invalid/xctask

go 1.19
