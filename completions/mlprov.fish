complete --keep-order --exclusive --command mlprov --arguments "(COMPLETE=fish mlprov -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
