# bash completion for rangecat(1)
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
		--version --help --input-file
		-n -C -r -H -k -q -v -V -h -d -x -t -i"
	case $cur in
	--progress=*)
		COMPREPLY=($(compgen -P --progress= -W "bar line json none" -- "${cur#--progress=}"))
		return
		;;
	--decompress=*)
		COMPREPLY=($(compgen -P --decompress= -W "auto zstd gzip xz bzip2 lz4 auto,passthrough" -- "${cur#--decompress=}"))
		return
		;;
	esac
	case $prev in
	--cacert | -i | --input-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	-x | --extract)
		COMPREPLY=($(compgen -d -- "$cur"))
		return
		;;
	-C | --continue-at)
		COMPREPLY=($(compgen -W "-" -- "$cur"))
		return
		;;
	-n | --connections | --chunk-size | --memory | -r | --range | \
		--if-match | -H | --header | --retries | --retry-delay | \
		--connect-timeout | --stall-timeout | --max-time | \
		--speed-limit | --speed-time | --shard | --member | \
		--strip-components | --sha256 | --sha512)
		return
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	fi
}
complete -F _rangecat rangecat
