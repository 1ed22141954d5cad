"""cbce.show_config(): version, OpenMP, default threads, compiler flags (issue #2, "Layout and build")."""
import cbce


def test_show_config_returns_the_build_configuration(capsys):
    """show_config() returns a dict with version, openmp, default_n_threads and compile_args."""
    config = cbce.show_config()
    capsys.readouterr()
    assert isinstance(config, dict)
    missing = {"version", "openmp", "default_n_threads", "compile_args"} - set(config)
    assert not missing, f"missing keys: {missing}"
    assert isinstance(config["openmp"], bool)
    assert isinstance(config["default_n_threads"], int) and config["default_n_threads"] >= 1


def test_version_matches_package_version(capsys):
    """show_config()["version"] is cbce.__version__."""
    assert cbce.show_config()["version"] == cbce.__version__


def test_built_without_fast_math(capsys):
    """The kernels are never compiled with -ffast-math (it breaks NaN handling)."""
    args = cbce.show_config()["compile_args"]
    flags = args.split() if isinstance(args, str) else list(args)
    assert not any("fast-math" in f or f == "-Ofast" for f in flags), flags
