# bash completion for tunlock (installed to share/bash-completion/completions/tunlock).
# Verbs and flags mirror host/src/cli/verbs.ts; test/unit/cli-completion.test.ts keeps them in step.
_tunlock() {
  local cur prev verb i
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  verb=
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      --socket) ((i++)) ;;
      -*) ;;
      *) verb=${COMP_WORDS[i]}; break ;;
    esac
  done
  case $prev in
    --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --endpoint|--seconds) return ;;
    --endpoint-user) COMPREPLY=($(compgen -u -- "$cur")); return ;;
  esac
  if [[ -z $verb ]]; then
    COMPREPLY=($(compgen -W "status lock lan tunnel captive bind unbind run reset test history doctor version watch --socket --json --help --version" -- "$cur"))
    return
  fi
  local words="--json --help --socket"
  case $verb in
    lock) words+=" on off always --block-all" ;;
    lan) words+=" allow block" ;;
    tunnel)
      words+=" add adopt remove up down --endpoint --endpoint-user --intentional"
      if [[ ${COMP_WORDS[COMP_CWORD-1]} =~ ^(add|adopt|remove|up|down)$ ]]; then
        COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
        return
      fi ;;
    captive) words+=" open extend close --seconds" ;;
    bind|unbind)
      case $prev in
        user) COMPREPLY=($(compgen -u -- "$cur")); return ;;
        group) COMPREPLY=($(compgen -g -- "$cur")); return ;;
      esac
      words+=" user group" ;;
    reset) words+=" --yes" ;;
    run) COMPREPLY=($(compgen -c -- "$cur")); return ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _tunlock tunlock
