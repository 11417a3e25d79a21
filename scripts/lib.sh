# Shared by deploy.sh and destroy.sh (sourced, not run).

die() { echo "error: $*" >&2; exit 1; }

# confirm QUESTION: true for yes. With --yes (ASSUME_YES=true) answers yes;
# with no terminal to ask, stops instead of guessing.
confirm() {
  local answer
  if [ "${ASSUME_YES:-false}" = true ]; then return 0; fi
  [ -t 0 ] || die "$1 - no terminal to ask: re-run with --yes to answer yes"
  while true; do
    read -r -p "$1 [y/n] " answer
    case "$answer" in
      [Yy]|[Yy][Ee][Ss]) return 0 ;;
      [Nn]|[Nn][Oo]) return 1 ;;
      *) echo "Please answer y or n." ;;
    esac
  done
}

# parse_args USAGE ARGS...: sets MODE (aws|local), ASSUME_YES, INSPECTOR
# (ask|skip|disable), CONTEXT (the CDK's "-c KEY=VALUE" arguments, for
# settings overrides: -c projectSettings.<path>=<value>) and exports STACK_TAG
# when --stack-tag is given.
parse_args() {
  local usage=$1; shift
  MODE=aws ASSUME_YES=false INSPECTOR=ask
  CONTEXT=()
  export ASSUME_YES
  while [ $# -gt 0 ]; do
    case "$1" in
      -c|--context)
        [ $# -ge 2 ] && [[ $2 == *=* ]] || die "$1 needs KEY=VALUE (e.g. -c projectSettings.amiLifecycle.logRetentionDays=30)"
        CONTEXT+=(-c "$2"); shift ;;
      --context=*) [[ ${1#*=} == *=* ]] || die "--context needs KEY=VALUE"; CONTEXT+=(-c "${1#*=}") ;;
      --local) MODE=local ;;
      --yes|-y) export ASSUME_YES=true ;;
      --skip-inspector) INSPECTOR=skip ;;
      --disable-inspector) INSPECTOR=disable ;;
      --stack-tag) [ $# -ge 2 ] || die "--stack-tag needs a value"; export STACK_TAG=$2; shift ;;
      --stack-tag=*) export STACK_TAG=${1#*=} ;;
      -h|--help) echo "$usage"; exit 0 ;;
      *) die "unknown option '$1'. $usage" ;;
    esac
    shift
  done
}

cdk() {
  JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 PYTHONDONTWRITEBYTECODE=1 node_modules/.bin/cdk "$@"
}

# The stack tag the app will use (STACK_TAG, else -c stackTag, else cdk.json),
# slugified; every setting, with the -c overrides in CONTEXT, is validated.
stack_tag() {
  .venv/bin/python - "${CONTEXT[@]}" <<'PY'
import sys
from stacks.settings import SettingsError, context_overrides, load_settings
pairs = dict(arg.partition("=")[::2] for arg in sys.argv[1:] if arg != "-c")
try:
    print(load_settings(context_stack_tag=pairs.get("stackTag"), overrides=context_overrides(pairs)).stack_tag)
except SettingsError as error:
    sys.exit(f"error: settings: {error}")
PY
}
