"""`hwprof compare` names two torch builds of one release (a local build against a pip wheel) by their
torch_config_digest. The digest hashes torch.__config__.show(), which names the CPU capability in use, so it is
compared only between runs at one capability: across two, it differs whatever the build."""

from fakes.runs import write_run
from hwprof.compare import compare

AVX512 = {"torch": "2.3.0", "cpu_capability": "AVX512"}


def test_two_builds_at_one_cpu_capability_are_named(tmp_path):
    base = write_run(tmp_path / "base.parquet", seed=1, provenance_fields={**AVX512, "torch_config_digest": "aaaa"})
    new = write_run(tmp_path / "new.parquet", seed=2, provenance_fields={**AVX512, "torch_config_digest": "bbbb"})
    assert compare(base, new)["run_differences"] == [
        "BASE ran a torch build of config digest aaaa and NEW one of bbbb, both at CPU capability AVX512: each "
        "ratio includes that change"
    ]
    again = write_run(tmp_path / "again.parquet", seed=3, provenance_fields={**AVX512, "torch_config_digest": "aaaa"})
    assert compare(base, again)["run_differences"] == []


def test_digests_at_two_cpu_capabilities_are_not_compared(tmp_path):
    base = write_run(tmp_path / "base.parquet", seed=1, provenance_fields={**AVX512, "torch_config_digest": "aaaa"})
    other = {"torch": "2.3.0", "cpu_capability": "AVX2", "torch_config_digest": "cccc"}
    new = write_run(tmp_path / "new.parquet", seed=2, provenance_fields=other)
    assert compare(base, new)["run_differences"] == [
        "BASE ran with torch CPU capability AVX512 and NEW with torch CPU capability AVX2: each ratio includes "
        "that change"
    ]


def test_another_release_is_said_once_and_an_unread_digest_is_no_difference(tmp_path):
    base = write_run(tmp_path / "base.parquet", seed=1, provenance_fields={**AVX512, "torch_config_digest": "aaaa"})
    newer = {**AVX512, "torch": "2.4.0", "torch_config_digest": "bbbb"}
    new = write_run(tmp_path / "new.parquet", seed=2, provenance_fields=newer)
    assert compare(base, new)["run_differences"] == [
        "BASE ran torch 2.3.0 and NEW 2.4.0: each ratio includes that change"
    ]
    blind = write_run(
        tmp_path / "blind.parquet", seed=3, provenance_fields={**AVX512, "torch_config_digest": "unreadable"}
    )
    assert compare(base, blind)["run_differences"] == []
