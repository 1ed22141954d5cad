# Sourced by the stages that reuse readme.sh's venv ($CBCE_CI_TMP/main); when that venv is not
# there (the stage run alone), a fresh one with the README's install command.
if [ -x "$CI_TMP/main/bin/python" ]; then
  # shellcheck disable=SC1091
  source "$CI_TMP/main/bin/activate"
else
  fresh_venv main
  clean_build
  pip install ".[test]"
fi
