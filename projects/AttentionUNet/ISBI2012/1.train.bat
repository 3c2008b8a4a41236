@echo off
rem train with the config in this folder; extra arguments are passed on.
cd /d "%~dp0"
python -m dl_suite train ./train_eval_infer.config %*
