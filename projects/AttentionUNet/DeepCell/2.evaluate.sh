#!/bin/sh
# evaluate with the config in this folder; extra arguments (e.g. --set train.epochs=1) are passed on.
cd "$(dirname "$0")" || exit 2
exec python3 -m dl_suite evaluate ./train_eval_infer.config "$@"
