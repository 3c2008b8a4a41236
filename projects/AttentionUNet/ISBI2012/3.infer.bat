@echo off
rem infer with the config in this folder; extra arguments are passed on.
cd /d "%~dp0"
python -m dl_suite infer ./train_eval_infer.config %*
