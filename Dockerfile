# The daemon alone: build the binary first (./build.sh, or a binary of
# ./build.sh all renamed to ndpresponder), then
#   docker build -t ndpresponder .
#   docker run -d --name ndpresponder --restart unless-stopped --network host \
#     --cap-drop ALL --cap-add NET_RAW --cap-add NET_ADMIN \
#     --cap-add SETUID --cap-add SETGID --cap-add SETPCAP \
#     ndpresponder -i eth0 -N ipv6exposed
# It becomes uid 65534 holding only CAP_NET_RAW and CAP_NET_ADMIN (bounding
# set too, no_new_privs) before it touches the network: SETUID, SETGID and
# SETPCAP are what it needs to get there, and are gone when it runs. To stay
# uid 0 with the two alone, drop those three and add -user 0.
# Docker network mode needs the engine's socket: add
#   -v /var/run/docker.sock:/var/run/docker.sock:ro
# (the socket's group, docker, is kept as the daemon's one group).
FROM scratch
COPY ndpresponder /ndpresponder
ENTRYPOINT ["/ndpresponder", "-user", "65534"]
