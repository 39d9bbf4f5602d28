# The daemon alone: build the binary first (./build.sh, or a binary of
# ./build.sh all renamed to ndpresponder), then
#   docker build -t ndpresponder .
#   docker run -d --name ndpresponder --restart unless-stopped --network host \
#     --cap-drop ALL --cap-add NET_RAW --cap-add NET_ADMIN \
#     ndpresponder -i eth0 -N ipv6exposed
# Docker network mode needs the engine's socket: add
#   -v /var/run/docker.sock:/var/run/docker.sock:ro
FROM scratch
COPY ndpresponder /ndpresponder
ENTRYPOINT ["/ndpresponder"]
