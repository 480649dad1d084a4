#!/usr/bin/env bash
# Rewrite the files mlprov generates from itself and commits: completions/,
# man/man1/, mlprov.schema.json, schemas/, and the --help snapshots
# (tests/snapshots/tests__generated__help*.snap). tests/generated.rs checks
# they are fresh; run this after changing src/cli.rs or src/help.rs, or after
# merging main, instead of merging the generated files by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f man/man1/*.1 tests/snapshots/tests__generated__help*.snap
MLPROV_UPDATE_GENERATED=1 INSTA_UPDATE=always \
  cargo test --locked --test tests generated::generated_files_are_fresh
INSTA_UPDATE=always cargo test --locked --test tests generated::
git status --short completions man schemas mlprov.schema.json tests/snapshots
