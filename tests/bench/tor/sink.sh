# The Tor side's message sink: socat runs this once per connection with
# the connection on stdin/stdout. It reads one HTTP request with its body,
# discards it and answers 200. POSIX sh only.
cr=$(printf '\r')
len=0
while IFS= read -r line; do
	line=${line%"$cr"}
	[ -z "$line" ] && break
	case $line in
	[Cc]ontent-[Ll]ength:*) len=${line#*:}; len=${len# } ;;
	esac
done
case $len in
''|*[!0-9]*) len=0 ;;
esac
[ "$len" -gt 0 ] && head -c "$len" >/dev/null
printf 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'
