# bash completion for podwirectl(8): subcommands, interface names, show fields, config names
# from /etc/wireguard. The shape follows wireguard-tools' wg and wg-quick completions.

# Interfaces podwirectl can drive: kernel and userspace alike ("show interfaces").
_podwirectl_interfaces()
{
	podwirectl show interfaces 2>/dev/null | tr ' ' '\n'
}

# Config names: NAME for every readable /etc/wireguard/NAME.conf.
_podwirectl_configs()
{
	local dir=${PODWIRECTL_CONFIG_DIR:-/etc/wireguard} f
	for f in "$dir"/*.conf; do
		[[ -e $f ]] || continue
		f=${f##*/}
		printf '%s\n' "${f%.conf}"
	done
}

_podwirectl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local commands="genkey genpsk pubkey show showconf set setconf addconf syncconf strip up down save reresolve status peer install-cni help"
	local show_fields="public-key private-key listen-port fwmark peers preshared-keys endpoints allowed-ips latest-handshakes transfer persistent-keepalive dump"
	local store_opts="--store --store-dir --etcd-endpoints"
	COMPREPLY=()

	if [[ $COMP_CWORD -eq 1 ]]; then
		COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		return
	fi
	case $prev in
	--store) COMPREPLY=($(compgen -W "file etcd" -- "$cur")); return ;;
	--store-dir|--config) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")); return ;;
	-i) COMPREPLY=($(compgen -W "$(_podwirectl_interfaces)" -- "$cur")); return ;;
	esac

	case ${COMP_WORDS[1]} in
	show)
		if [[ $COMP_CWORD -eq 2 ]]; then
			COMPREPLY=($(compgen -W "all interfaces $(_podwirectl_interfaces)" -- "$cur"))
		elif [[ $COMP_CWORD -eq 3 && ${COMP_WORDS[2]} != interfaces ]]; then
			COMPREPLY=($(compgen -W "$show_fields" -- "$cur"))
		fi
		;;
	showconf|set|reresolve)
		if [[ $COMP_CWORD -eq 2 ]]; then
			COMPREPLY=($(compgen -W "$(_podwirectl_interfaces)" -- "$cur"))
		elif [[ ${COMP_WORDS[1]} == set ]]; then
			case $prev in
			private-key|preshared-key) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
			*) COMPREPLY=($(compgen -W "listen-port fwmark private-key peer remove update-only preshared-key endpoint persistent-keepalive allowed-ips" -- "$cur")) ;;
			esac
		elif [[ ${COMP_WORDS[1]} == reresolve ]]; then
			COMPREPLY=($(compgen -W "--interval --stale --config" -- "$cur"))
		fi
		;;
	setconf|addconf|syncconf)
		if [[ $COMP_CWORD -eq 2 ]]; then
			COMPREPLY=($(compgen -W "$(_podwirectl_interfaces)" -- "$cur"))
		elif [[ $COMP_CWORD -eq 3 ]]; then
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		;;
	up|down|save|strip)
		if [[ $COMP_CWORD -eq 2 ]]; then
			# A name from /etc/wireguard, or a path to a NAME.conf.
			if [[ $cur == */* || $cur == .* ]]; then
				compopt -o filenames 2>/dev/null
				COMPREPLY=($(compgen -f -- "$cur"))
			else
				COMPREPLY=($(compgen -W "$(_podwirectl_configs)" -- "$cur"))
			fi
		fi
		;;
	status)
		COMPREPLY=($(compgen -W "-i $store_opts" -- "$cur"))
		;;
	peer)
		if [[ $COMP_CWORD -eq 2 ]]; then
			COMPREPLY=($(compgen -W "add config remove" -- "$cur"))
		elif [[ $COMP_CWORD -ge 4 ]]; then
			case ${COMP_WORDS[2]} in
			add) COMPREPLY=($(compgen -W "--tunnel-cidr --dns --no-qr --gateway-ranges $store_opts" -- "$cur")) ;;
			config)
				if [[ $prev == --from ]]; then
					compopt -o filenames 2>/dev/null
					COMPREPLY=($(compgen -f -- "$cur"))
				else
					COMPREPLY=($(compgen -W "--from --dns --no-qr --gateway-ranges $store_opts" -- "$cur"))
				fi
				;;
			remove) COMPREPLY=($(compgen -W "$store_opts" -- "$cur")) ;;
			esac
		fi
		;;
	install-cni)
		# --from DIR, then the destination directory.
		if [[ $prev != --from && $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--from" -- "$cur"))
		else
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -d -- "$cur"))
		fi
		;;
	esac
}

complete -F _podwirectl podwirectl
