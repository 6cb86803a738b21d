# Sourced by ./ihop and ./run-tests: sets JAVA_HOME to a JDK 25, or stops with one sentence.
# The machine's default java is older; Temurin 25 lives under /usr/lib/jvm.
ihop_is_jdk25() { [ -x "$1/bin/javac" ] && "$1/bin/java" -version 2>&1 | head -1 | grep -Eq 'version "25([."]|$)'; }
if [ -n "${JAVA_HOME:-}" ] && ihop_is_jdk25 "$JAVA_HOME"; then
  :
else
  JAVA_HOME=
  for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25-* /usr/lib/jvm/jdk-25* /opt/java/*25*; do
    if ihop_is_jdk25 "$candidate"; then JAVA_HOME=$candidate; break; fi
  done
  if [ -z "$JAVA_HOME" ]; then
    echo "ihop needs a JDK 25 and found none (looked at JAVA_HOME and /usr/lib/jvm); install Temurin 25 or set JAVA_HOME." >&2
    exit 1
  fi
fi
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
