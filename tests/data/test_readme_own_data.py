"""The README's five commands, exactly as written, on a folder of real USPS digits: train,
export, install the edge kit into a fresh virtualenv without TensorFlow, predict, benchmark."""
import json
import os
import re
import shlex
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
from PIL import Image

from tfmodels.data import load_arrays

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- five-commands:.*?-->\s*```sh\n(.*?)```", text, re.S)
    assert block, "README.md lost its five-commands block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_takes_a_folder_of_images_to_a_device_in_five_commands(tmp_path, data_dir):
    commands = readme_commands()
    assert [c.split()[:2] for c in commands] == [["tfmodels", "train"], ["tfmodels", "export"],
                                                 ["pip", "install"], ["tfmodels-edge", "predict"],
                                                 ["tfmodels-edge", "benchmark"]]
    x, y = load_arrays("usps", "test", data_dir=data_dir)  # 2,007 real digits as a user's folder
    for label in range(10):
        folder = tmp_path / "digits" / DIGITS[label]
        folder.mkdir(parents=True)
        for i, img in enumerate(x[y == label]):
            Image.fromarray((img[..., 0] * 255).round().astype(np.uint8)).save(folder / f"{i}.png")
    (tmp_path / "export").symlink_to(ROOT / "export")  # the commands run from a checkout
    device = tmp_path / "device-venv"  # a fresh environment: no TensorFlow in it
    venv.create(device, with_pip=True)
    env = dict(os.environ, PATH=f"{device / 'bin'}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}"
               f"{os.environ['PATH']}", PIP_CONSTRAINT=str(ROOT / "constraints.txt"),
               TFMODELS_DATA_DIR=str(data_dir), PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("VIRTUAL_ENV", None)
    outputs = []
    for command in commands:
        proc = subprocess.run(shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=900)
        assert proc.returncode == 0, f"{command}\n{proc.stderr[-2000:]}"
        outputs.append(proc.stdout)
    no_tf = subprocess.run([str(device / "bin" / "python"), "-c", "import tensorflow"], capture_output=True)
    assert no_tf.returncode != 0  # the device ran without TensorFlow
    edge = subprocess.run([str(device / "bin" / "python"), "-c", "import tfmodels_edge; print(tfmodels_edge.__file__)"],
                          capture_output=True, text=True)
    assert str(device) in edge.stdout  # installed into the device environment, not found elsewhere
    metrics = json.loads((tmp_path / "runs" / "digits" / "metrics.json").read_text())
    assert metrics["test_accuracy"] >= 0.9
    answer = json.loads(outputs[3])
    assert answer["top1_label"] == ["seven"]
    bench = json.loads(outputs[4])
    assert bench["p50_ms"] > 0
