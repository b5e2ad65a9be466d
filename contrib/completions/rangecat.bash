# bash completion for rangecat(1)

# Prints the values that complete $2 as the value of option $1.
_rangecat_values()
{
	case $1 in
	--progress) compgen -W "auto bar line json none" -- "$2" ;;
	-d | --decompress)
		compgen -W "auto zstd gzip xz bzip2 lz4 auto,passthrough" -- "$2"
		;;
	--cacert | -o | --output | -i | --input-file) compgen -f -- "$2" ;;
	-x | --extract | --cache) compgen -d -- "$2" ;;
	-C | --continue-at) compgen -W "-" -- "$2" ;;
	esac
}

# COMPREPLY = prefix $1 + each value of option $2 that completes $3, one
# per line (file names may hold spaces).
_rangecat_reply()
{
	local line
	COMPREPLY=()
	case $2 in
	--cacert | -o | --output | -i | --input-file | -x | --extract | --cache)
		compopt -o filenames 2>/dev/null
		;;
	esac
	while IFS= read -r line; do
		COMPREPLY+=("$1$line")
	done < <(_rangecat_values "$2" "$3")
}

_rangecat()
{
	local cur prev opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	opts="--connections --chunk-size --memory --continue-at --range
		--if-match --header --retries --retry-delay --connect-timeout
		--stall-timeout --max-time --speed-limit --speed-time
		--insecure --cacert --quiet --verbose --progress
		--stats --shard --decompress --extract --list --member
		--strip-components --strict --same-owner --same-permissions
		--max-size --sha256 --sha512
		--output --remove-on-error
		--cache --cache-size
		--version --help --input-file
		-n -C -r -H -k -q -v -V -h -d -x -t -o -i"
	# --opt=value. With '=' in COMP_WORDBREAKS (bash's default) the words
	# are "--opt" "=" "value" and only "value" is replaced; without it,
	# "--opt=value" is one word and the reply keeps its "--opt=".
	if [[ $cur == = && $prev == --* ]]; then
		_rangecat_reply "" "$prev" ""
		return
	fi
	if [[ $prev == = && $COMP_CWORD -ge 2 &&
		${COMP_WORDS[COMP_CWORD - 2]} == --* ]]; then
		_rangecat_reply "" "${COMP_WORDS[COMP_CWORD - 2]}" "$cur"
		return
	fi
	if [[ $cur == --*=* ]]; then
		_rangecat_reply "${cur%%=*}=" "${cur%%=*}" "${cur#*=}"
		return
	fi
	case $prev in
	--cacert | -o | --output | -i | --input-file | -x | --extract | --cache | -C | --continue-at)
		_rangecat_reply "" "$prev" "$cur"
		return
		;;
	-n | --connections | --chunk-size | --memory | -r | --range | \
		--if-match | -H | --header | --retries | --retry-delay | \
		--connect-timeout | --stall-timeout | --max-time | \
		--speed-limit | --speed-time | --shard | --member | \
		--strip-components | --sha256 | --sha512 | --max-size | --cache-size)
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	fi
}
complete -F _rangecat rangecat
