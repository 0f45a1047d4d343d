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
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	local vfioctl=${COMP_WORDS[0]} command= kind= i word
	local -a socket=() arguments=()

	# The command, the socket, and the arguments typed so far.
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		# bash splits "--socket=PATH" at the "=" (COMP_WORDBREAKS): three words.
		if [[ $word == --* ]] && [ "${COMP_WORDS[i + 1]}" = = ]; then
			[ "$word" = --socket ] && socket=(--socket "${COMP_WORDS[i + 2]}")
			((i += 2))
			continue
		fi
		case $word in
		-s | --socket)
			socket=(--socket "${COMP_WORDS[i + 1]}")
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
	# The value of "--json=" or "--socket=", split off at the "=".
	if [ "$cur" = = ] || [ "$prev" = = ]; then
		local option=${COMP_WORDS[COMP_CWORD - 1]} value=
		[ "$prev" = = ] && option=${COMP_WORDS[COMP_CWORD - 2]} && value=$cur
		case $option in
		--json) mapfile -t COMPREPLY < <(compgen -W 'short pretty' -- "$value") ;;
		--socket) mapfile -t COMPREPLY < <(compgen -f -- "$value") ;;
		esac
		return 0
	fi

	case $prev in
	-s | --socket | --iso | --drivers-iso | --disk)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
		;;
	--gpu)
		mapfile -t COMPREPLY < <(compgen -W "$(_vfioctl_first_column \
			"$vfioctl" "${socket[@]}" --no-legend gpus)" -- "$cur")
		return 0
		;;
	--os)
		mapfile -t COMPREPLY < <(compgen -W 'windows11 windows10 linux' -- "$cur")
		return 0
		;;
	--mode)
		mapfile -t COMPREPLY < <(compgen -W 'mdev sriov passthrough' -- "$cur")
		return 0
		;;
	--vendor)
		mapfile -t COMPREPLY < <(compgen -W 'intel nvidia amd' -- "$cur")
		return 0
		;;
	esac
	# Another option that takes a value: nothing to offer.
	if [[ $prev == --* && $prev != *=* ]] &&
		"$vfioctl" ${command:+"$command"} --list-options 2>/dev/null | grep -qx -- "$prev="; then
		return 0
	fi

	if [[ $cur == -* ]]; then
		local options
		options=$("$vfioctl" ${command:+"$command"} --list-options 2>/dev/null)
		mapfile -t COMPREPLY < <(compgen -W "${options//=/}" -- "$cur")
		return 0
	fi

	if [ -z "$command" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$("$vfioctl" --list-commands 2>/dev/null |
			cut -f1)" -- "$cur")
		return 0
	fi

	kind=$("$vfioctl" --list-commands 2>/dev/null | awk -F '\t' -v c="$command" '$1 == c { print $2 }')
	local words=
	case $kind in
	vm)
		if [ "$command" = autostart ] && [ ${#arguments[@]} -ge 1 ]; then
			words='on off'
		else
			words=$(_vfioctl_first_column "$vfioctl" "${socket[@]}" --no-legend list)
		fi
		;;
	gpu)
		[ ${#arguments[@]} -eq 0 ] &&
			words=$(_vfioctl_first_column "$vfioctl" "${socket[@]}" --no-legend gpus)
		;;
	file)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
		;;
	command)
		words=$("$vfioctl" --list-commands 2>/dev/null | cut -f1)
		;;
	partition)
		if [ ${#arguments[@]} -eq 0 ]; then
			words='create destroy'
		elif [ "${arguments[0]}" = destroy ]; then
			words=$(_vfioctl_first_column "$vfioctl" "${socket[@]}" --no-legend partitions)
		fi
		;;
	esac
	mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
	return 0
}

complete -F _vfioctl vfioctl
