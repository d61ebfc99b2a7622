# syntax=docker/dockerfile:1
# Supply Hub image: built with the Maven wrapper on a Temurin 17 JDK, run on a Temurin 17 JRE as a
# non-root user. docker compose builds it for hub1 and hub2 (docker-compose.yml); alone:
#   docker build -t supply-hub .
#   docker run -p 8080:8080 -p 2575:2575 -e HUB_MLLP_HOST=0.0.0.0 supply-hub

FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the wrapper or a pom changes, not on every
# source edit. dependency:go-offline misses plugins resolved late (surefire providers), so the
# package step below may still fetch a few; the bulk (~200 MB of jars) is cached here.
COPY mvnw ./
COPY .mvn .mvn
COPY pom.xml ./
COPY hub/pom.xml hub/
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q -pl hub dependency:go-offline
COPY hub/src hub/src
RUN --mount=type=cache,target=/root/.m2 ./mvnw -B -q -pl hub package -DskipTests \
 && cp hub/target/hub-*.jar /src/hub.jar

FROM eclipse-temurin:17-jre
# fixed uid/gid so volume ownership (data/, delivered files) is the same on every host
RUN groupadd --system --gid 10001 hub \
 && useradd --system --uid 10001 --gid hub --home-dir /opt/hub --shell /usr/sbin/nologin hub
WORKDIR /opt/hub
COPY --from=build /src/hub.jar hub.jar
# the shipped interfaces and profiles; mount over routes/ or mappings/ to run your own
COPY routes routes
COPY mappings mappings
# data/out: where the file destinations write, data/checkpoints: the signed audit checkpoints (volumes
# in docker-compose.yml; a named volume takes this directory's owner when first created)
RUN mkdir -p data/out data/checkpoints && chown -R hub:hub data
USER 10001:10001

# Container-aware heap: 60 % of the container's memory limit. The rest is needed: a hub that had
# taken one message held 482 MB resident with 221 MB of heap committed (metaspace, threads, Netty's
# direct buffers for MLLP frames). JAVA_TOOL_OPTIONS is read by the JVM itself; JAVA_OPTS is added
# by the entrypoint below (later on the command line, so it wins).
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError" \
    JAVA_OPTS=""

# HTTP API, then the sample interfaces' MLLP listeners (routes/*.yaml). MLLP binds 127.0.0.1 unless
# HUB_MLLP_HOST=0.0.0.0 (docker-compose.yml sets it) or an interface sets host.
EXPOSE 8080 2575 2576 2577 2578

# The JRE image promises no curl or wget; bash alone (its /dev/tcp, printf, read: builtins) needs
# nothing installed, so no extra package and no extra attack surface. Healthy only on 200: the hub
# answers 503 when it is DOWN.
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /actuator/health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -t 4 -r status <&3 && [[ $status == *' 200 '* ]]"]

ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /opt/hub/hub.jar \"$@\"", "hub"]
