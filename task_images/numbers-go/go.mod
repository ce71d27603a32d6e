module numbers

go 1.19

require xc-scenario-runner.invalid/xctask v0.0.0

// The SDK is the folder beside this one (the build context is task_images/).
replace xc-scenario-runner.invalid/xctask => ../sdk/go
