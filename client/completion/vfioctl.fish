# SPDX-License-Identifier: LGPL-2.1-or-later
# fish completion for vfioctl(1): commands, options, VM names and GPU addresses.
#
# The commands and their options come from vfioctl itself (--list-commands,
# COMMAND --list-options), VM names and GPU addresses from the daemon
# (list/gpus --no-legend, on the socket given with -s/--socket, if any); a
# daemon that is not there completes nothing, quietly.

# The first word of each line the command prints ("-" is no value).
function __vfioctl_first_column
    for line in ($argv 2>/dev/null)
        set -l first (string split -n -f1 ' ' -- $line)
        if test -n "$first" -a "$first" != -
            echo $first
        end
    end
end

function __vfioctl_complete
    set -l tokens (commandline -opc)
    set -l cur (commandline -ct)
    set -l vfioctl $tokens[1]
    set -l command
    set -l arguments
    set -l socket

    # The command, the socket, and the arguments typed so far.
    set -l i 2
    while test $i -le (count $tokens)
        set -l word $tokens[$i]
        switch $word
            case -s --socket
                set i (math $i + 1)
                set socket --socket $tokens[$i]
            case '--socket=*'
                set socket $word
            case '-*'
            case '*'
                if test -z "$command"
                    set command $word
                else
                    set -a arguments $word
                end
        end
        set i (math $i + 1)
    end
    set -l prev
    test (count $tokens) -ge 2; and set prev $tokens[-1]

    switch $cur
        case '--json=*'
            printf '%s\n' --json=short --json=pretty
            return
        case '--socket=*'
            __fish_complete_path (string replace -- --socket= '' $cur) | string replace -r '^' -- --socket=
            return
    end
    switch $prev
        case -s --socket --iso --drivers-iso --disk
            __fish_complete_path $cur
            return
        case --gpu
            __vfioctl_first_column $vfioctl $socket --no-legend gpus
            return
        case --os
            printf '%s\n' windows11 windows10 linux
            return
        case --mode
            printf '%s\n' mdev sriov passthrough
            return
        case --vendor
            printf '%s\n' intel nvidia amd
            return
    end
    set -l own_options ($vfioctl $command --list-options 2>/dev/null)
    # Another option that takes a value: nothing to offer.
    if string match -q -- '--*' $prev; and contains -- "$prev=" $own_options
        return
    end
    if string match -q -- '-*' $cur
        string replace -r '=$' '' -- $own_options
        return
    end

    set -l kind
    for line in ($vfioctl --list-commands 2>/dev/null)
        set -l fields (string split \t -- $line)
        if test -z "$command"
            printf '%s\t%s\n' $fields[1] $fields[3]
        else if test "$fields[1]" = "$command"
            set kind $fields[2]
        end
    end
    test -z "$command"; and return

    switch $kind
        case vm
            if test "$command" = autostart -a (count $arguments) -ge 1
                printf '%s\n' on off
            else
                __vfioctl_first_column $vfioctl $socket --no-legend list
            end
        case gpu
            test (count $arguments) -eq 0
            and __vfioctl_first_column $vfioctl $socket --no-legend gpus
        case file
            __fish_complete_path $cur
        case command
            for line in ($vfioctl --list-commands 2>/dev/null)
                set -l fields (string split \t -- $line)
                printf '%s\t%s\n' $fields[1] $fields[3]
            end
        case partition
            if test (count $arguments) -eq 0
                printf '%s\n' create destroy
            else if test "$arguments[1]" = destroy
                __vfioctl_first_column $vfioctl $socket --no-legend partitions
            end
    end
end

complete -c vfioctl -f -a '(__vfioctl_complete)'
