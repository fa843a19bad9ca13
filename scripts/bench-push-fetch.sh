#!/bin/sh
# Measures `omk push` and `omk fetch` against plain `git push` and `git fetch` of the same
# references, in interleaved rounds, and prints the medians and their ratios (docs/benchmarks.md,
# "Push and fetch").
#
# Usage: scripts/bench-push-fetch.sh OMK [GOALS] [ROUNDS]
#   OMK     the omk binary to measure (such as target/release/omk)
#   GOALS   how many goals the pushing clone runs (default 10); each is pushed, then all fetched
#   ROUNDS  interleaved rounds per figure (default 11)
set -eu
omk=$(realpath "$1")
goals=${2:-10}
rounds=${3:-11}
work=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "work: $work" || trap 'rm -rf "$work"' EXIT
export HOME="$work/home" GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_SYSTEM=/dev/null \
  GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com \
  GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com OMK_HOST=bench
mkdir -p "$HOME"
cd "$work"

# The pushing clone: a shell project whose test fails until `add` adds, and GOALS goals fixed by
# a `cmd:` agent, each with its log, proof, anchors and artifacts (transcript, gate logs, diff).
git init --quiet --bare --initial-branch=main seed.git
git init --quiet --initial-branch=main a
(
  cd a
  printf 'add() { echo $(($1 - $2)); }\n' > lib.sh
  printf '. ./lib.sh\n[ "$(add 2 3)" = 5 ] || { echo "0 passed, 1 failed"; exit 1; }\necho "1 passed, 0 failed"\n' > test.sh
  printf '[[gates]]\nname = "unit"\nkind = "test"\ncommand = "sh test.sh"\n' > omk.toml
  git add -A && git commit --quiet -m base
  git remote add origin ../seed.git
  git push --quiet origin main
  n=1
  while [ "$n" -le "$goals" ]; do
    "$omk" run "fix add $n" --agent "cmd:sed -i 's/\$1 - \$2/\$1 + \$2/' lib.sh" -q >/dev/null || true
    n=$((n + 1))
  done
)
ids=$(ls a/.omk/goals)

now_ns() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Push: each round pushes every goal into a fresh bare remote, with `omk push GOAL` (the
# evidence checked and its commit found, then one atomic push of four references) and with
# `git push --atomic` of the same four references.
: > push-omk.txt
: > push-git.txt
round=1
while [ "$round" -le "$rounds" ]; do
  rm -rf r-omk.git r-git.git
  git init --quiet --bare r-omk.git && git init --quiet --bare r-git.git
  git -C a push --quiet ../r-omk.git main && git -C a push --quiet ../r-git.git main
  git -C a remote remove bench-omk 2>/dev/null || true
  git -C a remote add bench-omk ../r-omk.git
  start=$(now_ns)
  for id in $ids; do "$omk" -C a push "$id" --remote bench-omk >/dev/null; done
  echo $(( ($(now_ns) - start) / 1000 )) >> push-omk.txt
  start=$(now_ns)
  for id in $ids; do
    git -C a push --quiet --atomic ../r-git.git "refs/omk/goals/$id:refs/omk/goals/$id" \
      "refs/heads/omk/$id:refs/heads/omk/$id" "refs/omk/anchors/$id:refs/omk/anchors/$id"
  done
  echo $(( ($(now_ns) - start) / 1000 )) >> push-git.txt
  round=$((round + 1))
done

# Fetch: each round clones the remote's main twice (not timed), then fetches every goal with
# `omk fetch` (git fetch, then each goal's directory written and renamed into place, its branch
# and anchors set) and with `git fetch` of the same refspecs.
: > fetch-omk.txt
: > fetch-git.txt
round=1
while [ "$round" -le "$rounds" ]; do
  rm -rf f-omk f-git
  git clone --quiet --branch main r-omk.git f-omk && git clone --quiet --branch main r-omk.git f-git
  start=$(now_ns)
  "$omk" -C f-omk fetch >/dev/null
  echo $(( ($(now_ns) - start) / 1000 )) >> fetch-omk.txt
  start=$(now_ns)
  git -C f-git fetch --quiet --no-tags origin '+refs/omk/goals/*:refs/omk/fetched/origin/goals/*' \
    '+refs/omk/anchors/*:refs/omk/fetched/origin/anchors/*' '+refs/heads/omk/*:refs/omk/fetched/origin/branches/*'
  echo $(( ($(now_ns) - start) / 1000 )) >> fetch-git.txt
  round=$((round + 1))
done

report() {
  omk_us=$(median < "$2")
  git_us=$(median < "$3")
  awk -v name="$1" -v o="$omk_us" -v g="$git_us" 'BEGIN {
    printf "%-44s omk %8.1f ms   git %8.1f ms   %.2fx\n", name, o / 1000, g / 1000, o / g }'
}
echo "goals: $goals, rounds: $rounds, evidence of one goal: $(git -C a ls-tree -r --name-only "refs/omk/goals/$(echo "$ids" | head -1)" | wc -l) files"
report "push $goals goals, one command each" push-omk.txt push-git.txt
report "fetch $goals goals" fetch-omk.txt fetch-git.txt
