#!/usr/bin/env bash
# Apache Kafka broker jars from Maven Central (no tarball download), cached. The harness runs
# them as a single KRaft node (broker + controller) with `java -cp "<libs>/*" kafka.Kafka`.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

dest="$MLOPS_CACHE/kafka/$KAFKA_SCALA_VERSION-$KAFKA_VERSION"
want="kafka_$KAFKA_SCALA_VERSION=$KAFKA_VERSION"
if stamp_ok "$dest/.stamp" "$want"; then
  log "cached: $dest"
  exit 0
fi
apt_install_for java openjdk-17-jre-headless
apt_install_for mvn maven
java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
[ "${java_major%%.*}" -ge 17 ] 2>/dev/null || die "Java 17 or newer is required (found '$java_major'): apt-get install openjdk-17-jre-headless"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.provision</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_$KAFKA_SCALA_VERSION</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- the broker logs through slf4j; bind it to reload4j as the Kafka distribution does -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
POM
rm -rf "$dest" && mkdir -p "$dest/libs"
log "resolving org.apache.kafka:kafka_$KAFKA_SCALA_VERSION:$KAFKA_VERSION with Maven"
mvn -B -q -f "$work/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$dest/libs" >&2
[ -f "$dest/libs/kafka_$KAFKA_SCALA_VERSION-$KAFKA_VERSION.jar" ] || die "broker jar missing after Maven resolution"
log "$(find "$dest/libs" -name '*.jar' | wc -l) jars in $dest/libs"
echo "$want" >"$dest/.stamp"
