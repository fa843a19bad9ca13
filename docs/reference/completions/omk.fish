# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_omk_global_optspecs
    string join \n C= json color= progress= q/quiet v/verbose h/help V/version
end

function __fish_omk_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_omk_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_omk_using_subcommand
    set -l cmd (__fish_omk_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c omk -n "__fish_omk_needs_command" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_needs_command" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_needs_command" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_needs_command" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_needs_command" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_needs_command" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_needs_command" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_needs_command" -f -a "run" -d 'Run an agent on PROMPT in a new worktree, run the gates, and write the proof'
complete -c omk -n "__fish_omk_needs_command" -f -a "resume" -d 'Continue GOAL from its last completed step, after a pause, a crash, a budget stop or a failed step'
complete -c omk -n "__fish_omk_needs_command" -f -a "pause" -d 'Pause the live run of GOAL; `omk resume` goes on from the last completed step'
complete -c omk -n "__fish_omk_needs_command" -f -a "cancel" -d 'Cancel GOAL for good: a live run stops within a second; its worktree and branch stay'
complete -c omk -n "__fish_omk_needs_command" -f -a "accept" -d 'Accept GOAL\'s change: re-check it against the base branch, then merge it'
complete -c omk -n "__fish_omk_needs_command" -f -a "reject" -d 'Reject GOAL\'s change with a reason; the branch and worktree stay for a follow-up'
complete -c omk -n "__fish_omk_needs_command" -f -a "budget" -d 'Raise the budget of GOAL'
complete -c omk -n "__fish_omk_needs_command" -f -a "status" -d 'Show what GOAL (or the latest goal) is doing: state, step, elapsed, budget, verdict'
complete -c omk -n "__fish_omk_needs_command" -f -a "list" -d 'List the goals of the repository, oldest first'
complete -c omk -n "__fish_omk_needs_command" -f -a "show" -d 'Show GOAL in full: its status, gates, changed files and proof'
complete -c omk -n "__fish_omk_needs_command" -f -a "push" -d 'Push GOAL\'s branch and evidence to a remote, for other clones to fetch, verify and merge'
complete -c omk -n "__fish_omk_needs_command" -f -a "fetch" -d 'Fetch the goals other machines pushed to a remote'
complete -c omk -n "__fish_omk_needs_command" -f -a "proof" -d 'Inspect proofs'
complete -c omk -n "__fish_omk_needs_command" -f -a "replay" -d 'Show the timeline of GOAL, or of the latest goal, from its event log'
complete -c omk -n "__fish_omk_needs_command" -f -a "agents" -d 'List the agent programs installed on this machine and whether omk can drive them'
complete -c omk -n "__fish_omk_needs_command" -f -a "gates" -d 'List or run the project\'s gates, as `omk run` would, without an agent'
complete -c omk -n "__fish_omk_needs_command" -f -a "mcp" -d 'Serve a goal\'s gates to its agent over the Model Context Protocol (stdio)'
complete -c omk -n "__fish_omk_needs_command" -f -a "demo" -d 'Run the whole pipeline on a sample project with a scripted agent, offline'
complete -c omk -n "__fish_omk_needs_command" -f -a "worktree" -d 'List or clean up the worktrees omk runs agents in'
complete -c omk -n "__fish_omk_needs_command" -f -a "config" -d 'Show the effective configuration and where each value comes from'
complete -c omk -n "__fish_omk_needs_command" -f -a "key" -d 'Make the Ed25519 keys that sign exported proofs'
complete -c omk -n "__fish_omk_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand run" -l slices -d 'Split the goal into N slices, one per group of the prompt\'s list items, run by agents at once, each in its own worktree' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l plan -d 'Run the tasks of a task plan (TOML: ids, prompts, dependencies, read and write paths, agents, budgets) as slices; see docs/teams.md' -r -F
complete -c omk -n "__fish_omk_using_subcommand run" -l max-agents -d 'Run at most N slices at once [default: the plan\'s max_agents, else the number of tasks up to 4]' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l retries -d 'Retry a failed slice up to N times [default: the plan\'s retries, else 1]' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l lease -d 'Give a slice\'s task to another worker when its worker sent no heartbeat for this long (such as 30s)' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l agent -d 'The agent to run: kimi, kimi-print, claude, codex, cmd:COMMAND or script:FILE [default: `[agent] default` in the user config, else in omk.toml]' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l gate -d 'Run CMD with `sh -c` in the worktree as a required gate named gate-N (can be repeated)' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l max-parallel-gates -d 'Run at most N gates at once [default: the number of CPUs]' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l repair -d 'When required gates fail (or the review finds weakened tests or the like), give the agent up to N follow-ups with what failed, in the same conversation, and check again; 0 turns repair off [default: [run] repair_rounds in omk.toml, else 2]' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l kind -d 'The goal\'s kind, instead of the one omk infers from the prompt; it picks the oracle gates ([oracle] in omk.toml)' -r -f -a "feature\t'New behaviour'
bugfix\t'A fix for wrong behaviour'
refactor\t'A change of structure that keeps behaviour'
rewrite\t'A replacement of a component'
docs\t'Documentation only'
test\t'Tests only'
chore\t'Maintenance: dependencies, build, configuration'"
complete -c omk -n "__fish_omk_using_subcommand run" -l budget-time -d 'Stop when the run has taken this long (such as 90s, 10m, 1h30m); paused time does not count' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l budget-tokens -d 'Stop the agent when it has used this many tokens (input and output)' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l budget-usd -d 'Stop when the agent has cost this many US dollars (reported by the agent, or priced with [prices] in omk.toml)' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l max-turns -d 'Stop the agent after this many turns (model steps)' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l remote -d 'The remote --push pushes to' -r
complete -c omk -n "__fish_omk_using_subcommand run" -l sign-key -d 'With --push, sign the goal\'s in-toto bundle with this Ed25519 private key first' -r -F
complete -c omk -n "__fish_omk_using_subcommand run" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand run" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand run" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand run" -l no-gate-cache -d 'Run every gate even when the gate cache has its result for the same tree (fresh results are still stored)'
complete -c omk -n "__fish_omk_using_subcommand run" -l no-fail-to-pass -d 'Waive the fail-to-pass rule: a bugfix or test goal (or a feature goal that adds tests) then needs no test that fails without its change; the proof names the waiver ([oracle] fail_to_pass = false in omk.toml waives it for every goal)'
complete -c omk -n "__fish_omk_using_subcommand run" -l accept -d 'Accept and merge the change when, and only when, every check passes (the proof names this policy as the one who accepted)'
complete -c omk -n "__fish_omk_using_subcommand run" -l html -d 'Also write the proof as a self-contained HTML page, report.html beside proof.json, and print its path; `omk resume`, `omk accept` and `omk reject` keep it up to date'
complete -c omk -n "__fish_omk_using_subcommand run" -l push -d 'After the run, push the goal\'s branch and evidence as `omk push` does; the exit code is the verdict\'s, or 6 when the push fails'
complete -c omk -n "__fish_omk_using_subcommand run" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand run" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand run" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand run" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand resume" -l prompt -d 'A follow-up for the agent, which then runs again on the goal\'s worktree' -r
complete -c omk -n "__fish_omk_using_subcommand resume" -l repair -d 'A new limit on the goal\'s repair rounds, counting those already run (0 stops the loop)' -r
complete -c omk -n "__fish_omk_using_subcommand resume" -l max-parallel-gates -d 'Run at most N gates at once [default: the number of CPUs]' -r
complete -c omk -n "__fish_omk_using_subcommand resume" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand resume" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand resume" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand resume" -l accept -d 'Accept and merge the change when, and only when, every check passes'
complete -c omk -n "__fish_omk_using_subcommand resume" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand resume" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand resume" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand resume" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand pause" -l reason -d 'Why, recorded in the goal\'s log' -r
complete -c omk -n "__fish_omk_using_subcommand pause" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand pause" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand pause" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand pause" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand pause" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand pause" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand pause" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand pause" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand cancel" -l reason -d 'Why, recorded in the goal\'s log' -r
complete -c omk -n "__fish_omk_using_subcommand cancel" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand cancel" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand cancel" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand cancel" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand cancel" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand cancel" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand cancel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand cancel" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand accept" -l reason -d 'Why, recorded with the acceptance' -r
complete -c omk -n "__fish_omk_using_subcommand accept" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand accept" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand accept" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand accept" -l approve-gate-surface -d 'Also approve the change\'s edits to what the gates check (tests, gate config, CI files)'
complete -c omk -n "__fish_omk_using_subcommand accept" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand accept" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand accept" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand accept" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand accept" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand reject" -l reason -d 'Why the change is rejected; the agent sees it if you resume with a follow-up' -r
complete -c omk -n "__fish_omk_using_subcommand reject" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand reject" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand reject" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand reject" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand reject" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand reject" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand reject" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand reject" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand budget; and not __fish_seen_subcommand_from add help" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand budget; and not __fish_seen_subcommand_from add help" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand budget; and not __fish_seen_subcommand_from add help" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand budget; and not __fish_seen_subcommand_from add help" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand budget; and not __fish_seen_subcommand_from add help" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand budget; and not __fish_seen_subcommand_from add help" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand budget; and not __fish_seen_subcommand_from add help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand budget; and not __fish_seen_subcommand_from add help" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand budget; and not __fish_seen_subcommand_from add help" -f -a "add" -d 'Add to GOAL\'s limits; a resource without a limit gets what was used plus the amount'
complete -c omk -n "__fish_omk_using_subcommand budget; and not __fish_seen_subcommand_from add help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from add" -l time -d 'More run time (such as 10m)' -r
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from add" -l tokens -d 'More tokens' -r
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from add" -l usd -d 'More US dollars' -r
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from add" -l turns -d 'More agent turns' -r
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from add" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from add" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from add" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from add" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add to GOAL\'s limits; a resource without a limit gets what was used plus the amount'
complete -c omk -n "__fish_omk_using_subcommand budget; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand status" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand status" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand status" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand status" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand status" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand status" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand status" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand list" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand list" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand list" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand list" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand list" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand list" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand list" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand show" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand show" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand show" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand show" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand show" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand show" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand show" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand push" -l remote -d 'The remote to push to' -r
complete -c omk -n "__fish_omk_using_subcommand push" -l sign-key -d 'Export the goal\'s in-toto bundle signed with this Ed25519 private key (as `omk proof export --format in-toto --sign-key FILE`) and push it with the evidence' -r -F
complete -c omk -n "__fish_omk_using_subcommand push" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand push" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand push" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand push" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand push" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand push" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand push" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand push" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand fetch" -l remote -d 'The remote to fetch from' -r
complete -c omk -n "__fish_omk_using_subcommand fetch" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand fetch" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand fetch" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand fetch" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand fetch" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand fetch" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand fetch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand fetch" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -f -a "show" -d 'Show the proof of GOAL, or of the latest goal'
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -f -a "rebuild" -d 'Recompute the proof of GOAL from its log and compare it with proof.json, byte for byte'
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -f -a "verify" -d 'Check the proof of GOAL, or a signed in-toto bundle; exit 0 only when it is verified'
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -f -a "export" -d 'Export the proof of GOAL as a signed in-toto bundle, a pull request description or an HTML report'
complete -c omk -n "__fish_omk_using_subcommand proof; and not __fish_seen_subcommand_from show rebuild verify export help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from show" -l format -d 'How to render the proof [default: text, or json with --json]' -r -f -a "text\t'A terminal summary'
markdown\t'A pull request description'
json\t'The proof\'s JSON, as --json prints it'"
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from show" -l since -d 'Show what changed since an earlier proof of the goal: run-N (after the goal\'s N-th agent run) or N (after event N of the log)' -r
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from show" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from show" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from show" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from show" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from rebuild" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from rebuild" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from rebuild" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from rebuild" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from rebuild" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from rebuild" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from rebuild" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from rebuild" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -s j -l jobs -d 'How many gates to re-run at once [default: the number of CPUs]' -r
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -l bundle -d 'Check this in-toto bundle (from `omk proof export`) instead of the goal\'s files' -r -F
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -l key -d 'The public key (PEM) whose signatures the bundle must carry' -r -F
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -l commit -d 'The commit the bundle\'s verdict must be about [default: the goal\'s recorded commit]' -r
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -l rerun -d 'Re-run every gate on the recorded tree in a scratch worktree and compare the outcomes'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -l require-passed -d 'Also require the bundle\'s verdict to be PASSED (the proof was ready), as a merge gate in CI would'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from export" -l format -d 'What to write' -r -f -a "in-toto\t'An in-toto bundle: one DSSE envelope per line'
markdown\t'A pull request description'
html\t'A self-contained HTML report'"
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from export" -l sign-key -d 'Sign every envelope with this Ed25519 private key (PKCS#8 PEM, from `omk key generate`)' -r -F
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from export" -s o -l out -d 'Where to write; `-` is stdout [default: .omk/goals/<goal-id>/proof.intoto.jsonl for in-toto, .omk/goals/<goal-id>/report.html for html, stdout for markdown]' -r -F
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from export" -l repo-uri -d 'The repository\'s URI in the verdict, such as git+https://github.com/org/repo [default: urn:omk:goal:<goal-id>]' -r
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from export" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from export" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from export" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from export" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show the proof of GOAL, or of the latest goal'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from help" -f -a "rebuild" -d 'Recompute the proof of GOAL from its log and compare it with proof.json, byte for byte'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check the proof of GOAL, or a signed in-toto bundle; exit 0 only when it is verified'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export the proof of GOAL as a signed in-toto bundle, a pull request description or an HTML report'
complete -c omk -n "__fish_omk_using_subcommand proof; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand replay" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand replay" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand replay" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand replay" -s f -l follow -d 'Keep reading while the goal\'s run is alive, and stop when it lets go of the log'
complete -c omk -n "__fish_omk_using_subcommand replay" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand replay" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand replay" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand replay" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand agents" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand agents" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand agents" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand agents" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand agents" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand agents" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand agents" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand agents" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand gates; and not __fish_seen_subcommand_from list run help" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand gates; and not __fish_seen_subcommand_from list run help" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand gates; and not __fish_seen_subcommand_from list run help" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand gates; and not __fish_seen_subcommand_from list run help" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand gates; and not __fish_seen_subcommand_from list run help" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand gates; and not __fish_seen_subcommand_from list run help" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand gates; and not __fish_seen_subcommand_from list run help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand gates; and not __fish_seen_subcommand_from list run help" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand gates; and not __fish_seen_subcommand_from list run help" -f -a "list" -d 'List the gates of the repository: which run, where each comes from, and why'
complete -c omk -n "__fish_omk_using_subcommand gates; and not __fish_seen_subcommand_from list run help" -f -a "run" -d 'Run the gates in the checkout; exit 0 only when every required gate passed'
complete -c omk -n "__fish_omk_using_subcommand gates; and not __fish_seen_subcommand_from list run help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from list" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from list" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from list" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from list" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from run" -s j -l jobs -d 'Run at most N gates at once [default: the number of CPUs]' -r
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from run" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from run" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from run" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from run" -l no-cache -d 'Run every gate even when the cache has its result (fresh results are still stored)'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from run" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the gates of the repository: which run, where each comes from, and why'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from help" -f -a "run" -d 'Run the gates in the checkout; exit 0 only when every required gate passed'
complete -c omk -n "__fish_omk_using_subcommand gates; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand mcp" -l goal -d 'Serve the gates of GOAL (an id, a unique prefix, or latest) [default: latest]' -r
complete -c omk -n "__fish_omk_using_subcommand mcp" -s j -l jobs -d 'Run at most N gates at once [default: the number of CPUs]' -r
complete -c omk -n "__fish_omk_using_subcommand mcp" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand mcp" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand mcp" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand mcp" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand mcp" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand mcp" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand mcp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand mcp" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand demo" -l dir -d 'Create the sample project in DIR, which must be empty or new [default: a new temp dir]' -r -F
complete -c omk -n "__fish_omk_using_subcommand demo" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand demo" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand demo" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand demo" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand demo" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand demo" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand demo" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand worktree; and not __fish_seen_subcommand_from list gc help" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand worktree; and not __fish_seen_subcommand_from list gc help" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand worktree; and not __fish_seen_subcommand_from list gc help" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand worktree; and not __fish_seen_subcommand_from list gc help" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand worktree; and not __fish_seen_subcommand_from list gc help" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand worktree; and not __fish_seen_subcommand_from list gc help" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand worktree; and not __fish_seen_subcommand_from list gc help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand worktree; and not __fish_seen_subcommand_from list gc help" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand worktree; and not __fish_seen_subcommand_from list gc help" -f -a "list" -d 'List the repository\'s linked worktrees with their branch, commit and lock'
complete -c omk -n "__fish_omk_using_subcommand worktree; and not __fish_seen_subcommand_from list gc help" -f -a "gc" -d 'Remove the worktrees of finished goals that hold nothing to lose'
complete -c omk -n "__fish_omk_using_subcommand worktree; and not __fish_seen_subcommand_from list gc help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from list" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from list" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from list" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from list" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from gc" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from gc" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from gc" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from gc" -l dry-run -d 'Show what would be removed and why the others stay, and remove nothing'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from gc" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from gc" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from gc" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from gc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from gc" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the repository\'s linked worktrees with their branch, commit and lock'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from help" -f -a "gc" -d 'Remove the worktrees of finished goals that hold nothing to lose'
complete -c omk -n "__fish_omk_using_subcommand worktree; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand config; and not __fish_seen_subcommand_from show path help" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand config; and not __fish_seen_subcommand_from show path help" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand config; and not __fish_seen_subcommand_from show path help" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand config; and not __fish_seen_subcommand_from show path help" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand config; and not __fish_seen_subcommand_from show path help" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand config; and not __fish_seen_subcommand_from show path help" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand config; and not __fish_seen_subcommand_from show path help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand config; and not __fish_seen_subcommand_from show path help" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand config; and not __fish_seen_subcommand_from show path help" -f -a "show" -d 'Print the effective configuration, each value with the file and line, default or flag it comes from'
complete -c omk -n "__fish_omk_using_subcommand config; and not __fish_seen_subcommand_from show path help" -f -a "path" -d 'List the config files omk reads, in the order they apply, and whether each exists'
complete -c omk -n "__fish_omk_using_subcommand config; and not __fish_seen_subcommand_from show path help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from show" -l agent -d 'Show the configuration as `omk run --agent AGENT` would see it ([agent] default)' -r
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from show" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from show" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from show" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from show" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from path" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from path" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from path" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from path" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from path" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from path" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from path" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the effective configuration, each value with the file and line, default or flag it comes from'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'List the config files omk reads, in the order they apply, and whether each exists'
complete -c omk -n "__fish_omk_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand key; and not __fish_seen_subcommand_from generate help" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand key; and not __fish_seen_subcommand_from generate help" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand key; and not __fish_seen_subcommand_from generate help" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand key; and not __fish_seen_subcommand_from generate help" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand key; and not __fish_seen_subcommand_from generate help" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand key; and not __fish_seen_subcommand_from generate help" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand key; and not __fish_seen_subcommand_from generate help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand key; and not __fish_seen_subcommand_from generate help" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand key; and not __fish_seen_subcommand_from generate help" -f -a "generate" -d 'Generate an Ed25519 key pair for signing exported proofs'
complete -c omk -n "__fish_omk_using_subcommand key; and not __fish_seen_subcommand_from generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand key; and __fish_seen_subcommand_from generate" -s C -d 'Run as if omk was started in DIR' -r -F
complete -c omk -n "__fish_omk_using_subcommand key; and __fish_seen_subcommand_from generate" -l color -d 'Color the output: auto colors a terminal unless NO_COLOR is set' -r -f -a "auto\t'Color a terminal, unless NO_COLOR is set to a non-empty value'
always\t'Always color, even a file or a pipe'
never\t'Never color'"
complete -c omk -n "__fish_omk_using_subcommand key; and __fish_seen_subcommand_from generate" -l progress -d 'Show live progress on stderr: auto shows it on a terminal only, always also when stderr is a file or a pipe (one line per event), never hides it' -r -f -a "auto\t'On a terminal only, with a live status line'
always\t'Also when stderr is a file or a pipe, one line per event'
never\t'Never'"
complete -c omk -n "__fish_omk_using_subcommand key; and __fish_seen_subcommand_from generate" -l force -d 'Replace existing key files'
complete -c omk -n "__fish_omk_using_subcommand key; and __fish_seen_subcommand_from generate" -l json -d 'Print results as JSON on stdout, with a schema_version, and no progress on stderr'
complete -c omk -n "__fish_omk_using_subcommand key; and __fish_seen_subcommand_from generate" -s q -l quiet -d 'Print nothing but the result and errors: no progress, no warnings'
complete -c omk -n "__fish_omk_using_subcommand key; and __fish_seen_subcommand_from generate" -s v -l verbose -d 'Log what omk does to stderr: -v for debug, -vv for trace (OMK_LOG takes a filter such as omk_gates=trace instead)'
complete -c omk -n "__fish_omk_using_subcommand key; and __fish_seen_subcommand_from generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c omk -n "__fish_omk_using_subcommand key; and __fish_seen_subcommand_from generate" -s V -l version -d 'Print version'
complete -c omk -n "__fish_omk_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "generate" -d 'Generate an Ed25519 key pair for signing exported proofs'
complete -c omk -n "__fish_omk_using_subcommand key; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "run" -d 'Run an agent on PROMPT in a new worktree, run the gates, and write the proof'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "resume" -d 'Continue GOAL from its last completed step, after a pause, a crash, a budget stop or a failed step'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "pause" -d 'Pause the live run of GOAL; `omk resume` goes on from the last completed step'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "cancel" -d 'Cancel GOAL for good: a live run stops within a second; its worktree and branch stay'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "accept" -d 'Accept GOAL\'s change: re-check it against the base branch, then merge it'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "reject" -d 'Reject GOAL\'s change with a reason; the branch and worktree stay for a follow-up'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "budget" -d 'Raise the budget of GOAL'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "status" -d 'Show what GOAL (or the latest goal) is doing: state, step, elapsed, budget, verdict'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "list" -d 'List the goals of the repository, oldest first'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "show" -d 'Show GOAL in full: its status, gates, changed files and proof'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "push" -d 'Push GOAL\'s branch and evidence to a remote, for other clones to fetch, verify and merge'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "fetch" -d 'Fetch the goals other machines pushed to a remote'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "proof" -d 'Inspect proofs'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "replay" -d 'Show the timeline of GOAL, or of the latest goal, from its event log'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "agents" -d 'List the agent programs installed on this machine and whether omk can drive them'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "gates" -d 'List or run the project\'s gates, as `omk run` would, without an agent'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "mcp" -d 'Serve a goal\'s gates to its agent over the Model Context Protocol (stdio)'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "demo" -d 'Run the whole pipeline on a sample project with a scripted agent, offline'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "worktree" -d 'List or clean up the worktrees omk runs agents in'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "config" -d 'Show the effective configuration and where each value comes from'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "key" -d 'Make the Ed25519 keys that sign exported proofs'
complete -c omk -n "__fish_omk_using_subcommand help; and not __fish_seen_subcommand_from run resume pause cancel accept reject budget status list show push fetch proof replay agents gates mcp demo worktree config key help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c omk -n "__fish_omk_using_subcommand help; and __fish_seen_subcommand_from budget" -f -a "add" -d 'Add to GOAL\'s limits; a resource without a limit gets what was used plus the amount'
complete -c omk -n "__fish_omk_using_subcommand help; and __fish_seen_subcommand_from proof" -f -a "show" -d 'Show the proof of GOAL, or of the latest goal'
complete -c omk -n "__fish_omk_using_subcommand help; and __fish_seen_subcommand_from proof" -f -a "rebuild" -d 'Recompute the proof of GOAL from its log and compare it with proof.json, byte for byte'
complete -c omk -n "__fish_omk_using_subcommand help; and __fish_seen_subcommand_from proof" -f -a "verify" -d 'Check the proof of GOAL, or a signed in-toto bundle; exit 0 only when it is verified'
complete -c omk -n "__fish_omk_using_subcommand help; and __fish_seen_subcommand_from proof" -f -a "export" -d 'Export the proof of GOAL as a signed in-toto bundle, a pull request description or an HTML report'
complete -c omk -n "__fish_omk_using_subcommand help; and __fish_seen_subcommand_from gates" -f -a "list" -d 'List the gates of the repository: which run, where each comes from, and why'
complete -c omk -n "__fish_omk_using_subcommand help; and __fish_seen_subcommand_from gates" -f -a "run" -d 'Run the gates in the checkout; exit 0 only when every required gate passed'
complete -c omk -n "__fish_omk_using_subcommand help; and __fish_seen_subcommand_from worktree" -f -a "list" -d 'List the repository\'s linked worktrees with their branch, commit and lock'
complete -c omk -n "__fish_omk_using_subcommand help; and __fish_seen_subcommand_from worktree" -f -a "gc" -d 'Remove the worktrees of finished goals that hold nothing to lose'
complete -c omk -n "__fish_omk_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print the effective configuration, each value with the file and line, default or flag it comes from'
complete -c omk -n "__fish_omk_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'List the config files omk reads, in the order they apply, and whether each exists'
complete -c omk -n "__fish_omk_using_subcommand help; and __fish_seen_subcommand_from key" -f -a "generate" -d 'Generate an Ed25519 key pair for signing exported proofs'
