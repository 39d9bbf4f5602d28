# Turns /etc/config/ndpresponder (UCI) into ndpresponder's configuration
# file format, one option per line. BusyBox awk runs it.
#   awk -v list=1 -f uci2conf.awk /etc/config/ndpresponder
#       prints the names of the enabled uplink sections
#   awk -v section=NAME -f uci2conf.awk /etc/config/ndpresponder
#       prints the configuration of section NAME
# An unnamed section is named cfgN, N counting sections from 0 as uci does.

function unquote(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	if (s ~ /^'.*'$/ || s ~ /^".*"$/)
		s = substr(s, 2, length(s) - 2)
	return s
}

# flag maps a UCI option name to the daemon's flag; bools become true/false.
function emit(name, value) {
	if (name == "enabled") return
	if (name == "interface") name = "i"
	else if (name == "prefix") name = "n"
	else if (name == "announce") name = "a"
	else if (name == "pin_gateway") name = "pin-gateway"
	else if (name == "rate_target") name = "rate-target"
	else if (name == "allow_wide") name = "allow-wide"
	if (name == "pin-gateway" || name == "router" || name == "allow-wide" || name == "auto") {
		value = (value == "1" || value == "true" || value == "yes" || value == "on") ? "true" : "false"
	}
	out[++nout] = name " " value
}

function finish() {
	if (cur == "") return
	if (list && type == "uplink" && enabled) print cur
	if (!list && cur == section) for (i = 1; i <= nout; i++) print out[i]
	nout = 0
}

BEGIN { n = 0; cur = "" }

/^[ \t]*#/ || /^[ \t]*$/ { next }

$1 == "config" {
	finish()
	type = unquote($2)
	name = $0
	sub(/^[ \t]*config[ \t]+[^ \t]+[ \t]*/, "", name)
	cur = (name == "") ? "cfg" n : unquote(name)
	n++
	enabled = 1
	next
}

($1 == "option" || $1 == "list") && cur != "" {
	key = $2
	value = $0
	sub(/^[ \t]*(option|list)[ \t]+[^ \t]+[ \t]*/, "", value)
	value = unquote(value)
	if (key == "enabled") enabled = (value == "1" || value == "true" || value == "yes" || value == "on")
	if (type == "uplink") emit(key, value)
}

END { finish() }
