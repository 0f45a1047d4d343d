# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for vfioctl(1): commands, options, VM names and GPU addresses.
#
# The commands and their options come from vfioctl itself (--list-commands,
# COMMAND --list-options), VM names and GPU addresses from the daemon
# (list/gpus --no-legend, on the socket given with -s/--socket, if any); a
# daemon that is not there completes nothing, quietly.

# The first words of each line of the command's output.
_vfioctl_first_column()
{
	"$@" 2>/dev/null | while read -r first _; do
		[ -n "$first" ] && [ "$first" != - ] && printf '%s\n' "$first"
	done
}

_vfioctl()
{
	# The words of the line up to the cursor, split at blanks only: bash's own
	# COMP_WORDS are also split at ':' and '=' (COMP_WORDBREAKS), which cuts a
	# PCI address (0000:01:00.0) and --json=short apart.
	local line=${COMP_LINE:0:COMP_POINT}
	local -a words
	read -ra words <<<"$line"
	[[ -z $line || $line == *[[:blank:]] ]] && words+=("")
	local n=${#words[@]}
	local cur=${words[n - 1]} prev=
	((n > 1)) && prev=${words[n - 2]}
	local vfioctl=${words[0]} command= kind= i word
	local -a socket=() arguments=()

	# The command, the socket, and the arguments typed so far.
	for ((i = 1; i < n - 1; i++)); do
		word=${words[i]}
		case $word in
		-s | --socket)
			socket=(--socket "${words[i + 1]}")
			((i++))
			;;
		--socket=*) socket=("$word") ;;
		-*) ;;
		*)
			if [ -z "$command" ]; then
				command=$word
			else
				arguments+=("$word")
			fi
			;;
		esac
	done

	_vfioctl_candidates
	# bash replaces only what follows the last ':' or '=' of the word: drop what is before.
	local typed=${cur%"${cur##*[:=]}"}
	[ -n "$typed" ] && COMPREPLY=("${COMPREPLY[@]#"$typed"}")
	return 0
}

# Fills COMPREPLY with what may follow: the words of the line that _vfioctl found.
_vfioctl_candidates()
{
	case $cur in
	--json=*)
		mapfile -t COMPREPLY < <(compgen -W '--json=short --json=pretty' -- "$cur")
		return
		;;
	--socket=*)
		mapfile -t COMPREPLY < <(compgen -f -- "${cur#--socket=}" | sed 's/^/--socket=/')
		return
		;;
	esac

	case $prev in
	-s | --socket | --iso | --drivers-iso | --disk)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	--gpu)
		mapfile -t COMPREPLY < <(compgen -W "$(_vfioctl_first_column \
			"$vfioctl" "${socket[@]}" --no-legend gpus)" -- "$cur")
		return
		;;
	--os)
		mapfile -t COMPREPLY < <(compgen -W 'windows11 windows10 linux' -- "$cur")
		return
		;;
	--mode)
		mapfile -t COMPREPLY < <(compgen -W 'mdev sriov passthrough' -- "$cur")
		return
		;;
	--vendor)
		mapfile -t COMPREPLY < <(compgen -W 'intel nvidia amd' -- "$cur")
		return
		;;
	esac
	# Another option that takes a value: nothing to offer.
	if [[ $prev == --* && $prev != *=* ]] &&
		"$vfioctl" ${command:+"$command"} --list-options 2>/dev/null | grep -x -- "$prev=" >/dev/null; then
		return
	fi

	if [[ $cur == -* ]]; then
		local options
		options=$("$vfioctl" ${command:+"$command"} --list-options 2>/dev/null)
		mapfile -t COMPREPLY < <(compgen -W "${options//=/}" -- "$cur")
		return
	fi

	if [ -z "$command" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$("$vfioctl" --list-commands 2>/dev/null |
			cut -f1)" -- "$cur")
		return
	fi

	kind=$("$vfioctl" --list-commands 2>/dev/null | awk -F '\t' -v c="$command" '$1 == c { print $2 }')
	local values=
	case $kind in
	vm)
		if [ "$command" = autostart ] && [ ${#arguments[@]} -ge 1 ]; then
			values='on off'
		else
			values=$(_vfioctl_first_column "$vfioctl" "${socket[@]}" --no-legend list)
		fi
		;;
	gpu)
		[ ${#arguments[@]} -eq 0 ] &&
			values=$(_vfioctl_first_column "$vfioctl" "${socket[@]}" --no-legend gpus)
		;;
	file)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return
		;;
	command)
		values=$("$vfioctl" --list-commands 2>/dev/null | cut -f1)
		;;
	partition)
		if [ ${#arguments[@]} -eq 0 ]; then
			values='create destroy'
		elif [ "${arguments[0]}" = destroy ]; then
			values=$(_vfioctl_first_column "$vfioctl" "${socket[@]}" --no-legend partitions)
		fi
		;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
}

complete -F _vfioctl vfioctl
