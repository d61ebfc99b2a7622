package org.supplyhub.security;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;

import java.time.Duration;
import java.util.Locale;

/**
 * Password guessing at the embedded issuer's form login, slowed per source address and per user name:
 * after {@link #FREE_FAILURES} failures with less than {@link #QUIET} between them, sign-in is refused
 * (without checking the password) for {@link #FIRST_DELAY}, doubling with each further failure up to
 * {@link #MAX_DELAY}; quiet for {@link #QUIET} and the count starts again. A success clears the user's
 * count (not the source's). Memory is bounded: each table keeps at most {@code maxKeys}, least recently
 * used going first. Per node: nodes behind a balancer each count their own.
 */
final class SignInThrottle {

    static final int FREE_FAILURES = 5;
    static final Duration QUIET = Duration.ofMinutes(5);
    static final Duration FIRST_DELAY = Duration.ofSeconds(30);
    static final Duration MAX_DELAY = Duration.ofMinutes(15);

    private static final class Failures {
        int count;
        long lastNanos;
        long lockedUntilNanos;
    }

    private final Ticker ticker;
    private final Cache<String, Failures> bySource;
    private final Cache<String, Failures> byUser;

    SignInThrottle(int maxKeys, Ticker ticker) {
        this.ticker = ticker;
        this.bySource = table(maxKeys, ticker);
        this.byUser = table(maxKeys, ticker);
    }

    private static Cache<String, Failures> table(int maxKeys, Ticker ticker) {
        return Caffeine.newBuilder().maximumSize(maxKeys).expireAfterAccess(QUIET.plus(MAX_DELAY)).ticker(ticker).build();
    }

    /** How long sign-in from {@code source} as {@code user} is still refused; zero when it may try. */
    Duration refusedFor(String source, String user) {
        long now = ticker.read();
        long wait = Math.max(remaining(bySource.getIfPresent(source), now), remaining(byUser.getIfPresent(key(user)), now));
        return Duration.ofNanos(wait);
    }

    /** A wrong password (or unknown user): counts against both. */
    void failed(String source, String user) {
        long now = ticker.read();
        bySource.asMap().compute(source, (k, f) -> count(f, now));
        byUser.asMap().compute(key(user), (k, f) -> count(f, now));
    }

    void succeeded(String user) {
        byUser.invalidate(key(user));
    }

    private static Failures count(Failures f, long now) {
        if (f == null || (now - f.lastNanos > QUIET.toNanos() && now >= f.lockedUntilNanos)) {
            f = new Failures();
        }
        f.count++;
        f.lastNanos = now;
        if (f.count >= FREE_FAILURES) {
            int doublings = Math.min(f.count - FREE_FAILURES, 20);
            long delay = Math.min(MAX_DELAY.toNanos(), FIRST_DELAY.toNanos() << doublings);
            f.lockedUntilNanos = now + delay;
        }
        return f;
    }

    private static long remaining(Failures f, long now) {
        return f == null ? 0 : Math.max(0, f.lockedUntilNanos - now);
    }

    private static String key(String user) {
        return user == null ? "" : user.toLowerCase(Locale.ROOT);
    }
}
