"""predict's and export's mistakes: one line naming the key and the value, before any image is
read or file written; nothing partial left behind."""

import subprocess
import sys

import pytest

from alexnet.cli.export import export
from alexnet.cli.predict import predict_files
from alexnet.config.compose import compose_config
from alexnet.errors import InvalidValue
from tests.conftest import ROOT, write_image


def compose(tmp_path, name, *overrides):
    return compose_config(list(overrides), name, output_dir=tmp_path / name)


@pytest.fixture
def photos(tmp_path):
    for index in range(2):
        write_image(tmp_path / "photos" / f"{index}.jpg", "RGB", (80, 80), index)
    return tmp_path / "photos"


@pytest.mark.parametrize(
    ("override", "key", "says"),
    [
        ("input={tmp}/nowhere", "input", "no such file, folder or matching pattern"),
        ("input={tmp}/empty", "input", "the folder holds no image file"),
        ("input={tmp}/photos/*.gif", "input", "the pattern matches no image file"),
        ("top_k=0", "top_k", ">= 1"),
        ("top_k=4", "top_k", "the model has 3 classes"),
        ("output={tmp}/missing/p.csv", "output", "does not exist"),
        ("output={tmp}/p.txt", "output", "name a file ending in .csv or .jsonl"),
        ("device=tpu", "device", "choose one of: auto, cpu, cuda"),
        ("device=cuda:7", "device", "CUDA GPU(s)"),
        ("ckpt_path={tmp}/photos/0.jpg", "ckpt_path", "not a readable checkpoint"),
    ],
)
def test_a_bad_predict_setting_is_one_line_naming_it(
    trained_run, tmp_path, photos, override, key, says
):
    (tmp_path / "empty").mkdir()
    given = override.format(tmp=tmp_path)
    cfg = compose(tmp_path, "predict", f"ckpt_path={trained_run}", f"input={photos}", given)
    with pytest.raises(InvalidValue) as err:
        predict_files(cfg)
    message = str(err.value)
    assert message.startswith(f"{key}=") and says in message and "\n" not in message
    assert not list(tmp_path.rglob("*.csv")) and not list(tmp_path.rglob("*.partial"))


def test_only_unreadable_files_are_an_error_and_leave_no_file(trained_run, tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.jpg").write_bytes(b"no")
    out = tmp_path / "p.csv"
    cfg = compose(
        tmp_path,
        "predict",
        f"ckpt_path={trained_run}",
        f"input={tmp_path / 'bad'}",
        f"output={out}",
    )
    with pytest.raises(InvalidValue, match="none of its 1 image files could be read"):
        predict_files(cfg)
    assert list(tmp_path.iterdir()) == [tmp_path / "bad"]  # no file, no temporary one


@pytest.mark.parametrize(
    ("override", "key", "says"),
    [
        ("format=tflite", "format", "choose one of: onnx, torchscript, safetensors"),
        ("output={tmp}/missing/model.onnx", "output", "does not exist"),
        ("check.batch=1", "check.batch", ">= 2"),
    ],
)
def test_a_bad_export_setting_is_one_line_naming_it(trained_run, tmp_path, override, key, says):
    cfg = compose(tmp_path, "export", f"ckpt_path={trained_run}", override.format(tmp=tmp_path))
    with pytest.raises(InvalidValue) as err:
        export(cfg)
    assert str(err.value).startswith(f"{key}=") and says in str(err.value)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_the_commands_print_a_mistake_as_one_line_and_leave_no_run_dir(trained_run, tmp_path):
    photos = f"input={trained_run.parent / 'photos'}"
    for command, *bad in (("predict", photos, "top_k=9"), ("export", "format=tflite")):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "alexnet",
                command,
                f"ckpt_path={trained_run}",
                *bad,
                f"hydra.run.dir={tmp_path / command}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 1, done.stderr[-2000:]
        assert done.stderr.strip().splitlines()[-1].startswith(f"error: {bad[-1].split('=')[0]}=")
        assert not (tmp_path / command).exists()
