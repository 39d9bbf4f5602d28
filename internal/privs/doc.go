// Package privs is least privilege: it parses the process's credentials
// (/proc/self/status, as main read it), says which capability the daemon
// lacks, looks up -user in /etc/passwd, plans the change (CAP_NET_RAW and
// CAP_NET_ADMIN alone, no_new_privs, the user's ids) and makes it on every
// thread, re-executing the daemon where the runtime cannot.
//
// It owns the credentials syscalls. It must not know the configuration,
// the engine or the log: main tells it whom to become and which
// supplementary group to keep (the engine's socket's, which main finds),
// and logs what Drop returns.
package privs
