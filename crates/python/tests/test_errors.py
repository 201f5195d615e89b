"""Bad keys, values and files: the CLI's messages, the right exception types."""

import pytest

import elise_lab as el


@pytest.mark.parametrize(
    "config,set_arg,needle",
    [
        ({"network": {"n_latnt": 5}}, "network.n_latnt=5", "n_latnt"),
        ({"scaffold": {"q": 0}}, "scaffold.q=0", "scaffold.q"),
        ({"train": {"cycles": "many"}}, 'train.cycles="many"', "train.cycles"),
        ({"network": {"mode": "dendrite"}}, 'network.mode="dendrite"', "network.mode"),
        ({"output": {"record": ["rate", "w"]}, "replay": {"cycles": 6}}, None, "output.record"),
    ],
)
def test_bad_config_is_a_value_error_with_the_cli_message(config, set_arg, needle, cli, tmp_path):
    with pytest.raises(ValueError) as err:
        el.run("birdsong", config=config, out=tmp_path / "x")
    msg = str(err.value)
    assert needle in msg
    with pytest.raises(ValueError) as err2:
        el.Network(config=config)
    assert needle in str(err2.value)
    if set_arg is not None:
        p = cli("birdsong", "--set", set_arg, "--out", "y", check=False)
        assert p.returncode == 2, p.stderr
        assert msg in p.stderr, (msg, p.stderr)


def test_bad_files_name_the_file(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises((OSError, ValueError)) as err:
        el.run("birdsong", config=missing, out=tmp_path / "a")
    assert "nope.toml" in str(err.value)
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\ncycles = 3\n")
    with pytest.raises(ValueError) as err:
        el.Network(config=bad)
    assert "bad.toml" in str(err.value)
    with pytest.raises(ValueError) as err:
        el.Network(config={"pattern": {"file": str(tmp_path / "song.txt")}})
    assert "song.txt" in str(err.value)
    garbage = tmp_path / "net.ckpt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError) as err:
        el.Network.load(garbage)
    assert "net.ckpt" in str(err.value)
    with pytest.raises(OSError) as err:
        el.Network.load(tmp_path / "absent.ckpt")
    assert "absent.ckpt" in str(err.value)


def test_bad_arguments():
    with pytest.raises(ValueError, match="no experiment named 'birdsnog'"):
        el.run("birdsnog")
    with pytest.raises(ValueError, match="threads"):
        el.run("birdsong", threads=0)
    with pytest.raises(TypeError):
        el.Network(config=42)
    with pytest.raises(ValueError, match="unknown quantity"):
        el.Network().run(1, record=["voltage"])
    with pytest.raises(ValueError, match="axes"):
        el.Network(config={"axes": {"network.n_latent": [5, 10]}})
