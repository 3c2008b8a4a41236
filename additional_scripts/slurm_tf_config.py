"""Prints the TF_CONFIG of this SLURM task for `train.distribution = "multi_worker"`.

One worker per node (`--ntasks-per-node=1`); task index = SLURM_PROCID, so task 0 is the chief:

    srun bash -c 'TF_CONFIG=$(python3 additional_scripts/slurm_tf_config.py 23456) \
        dl-suite train project.config --set train.distribution=multi_worker'
"""

import json
import os
import subprocess
import sys


def tf_config(port, nodelist, procid):
    hosts = subprocess.run(["scontrol", "show", "hostnames", nodelist], check=True,
                           capture_output=True, text=True).stdout.split()
    return {"cluster": {"worker": [f"{h}:{port}" for h in hosts]},
            "task": {"type": "worker", "index": int(procid)}}


if __name__ == "__main__":
    port = sys.argv[1] if len(sys.argv) > 1 else "23456"
    print(json.dumps(tf_config(port, os.environ["SLURM_JOB_NODELIST"], os.environ["SLURM_PROCID"])))
