@echo off
rem evaluate with the config in this folder; extra arguments are passed on.
cd /d "%~dp0"
python -m dl_suite evaluate ./train_eval_infer.config %*
