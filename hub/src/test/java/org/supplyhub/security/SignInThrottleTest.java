package org.supplyhub.security;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.security.web.savedrequest.SavedRequest;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The sign-in backoff and the PHI-free saved request, as plain logic with a clock of the test's own. */
class SignInThrottleTest {

    final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    final SignInThrottle throttle = new SignInThrottle(100, nanos::get);

    void advance(Duration d) {
        nanos.addAndGet(d.toNanos());
    }

    @Test
    void fiveFailuresHoldTheSourceAndTheUserBackForAGrowingDelay() {
        for (int i = 0; i < 4; i++) {
            throttle.failed("10.0.0.1", "operator");
            assertThat(throttle.refusedFor("10.0.0.1", "operator")).isZero();
        }
        throttle.failed("10.0.0.1", "operator");
        assertThat(throttle.refusedFor("10.0.0.1", "operator")).isEqualTo(SignInThrottle.FIRST_DELAY);
        // the same source as another user, and the same user from another source: both held back
        assertThat(throttle.refusedFor("10.0.0.1", "viewer")).isPositive();
        assertThat(throttle.refusedFor("10.9.9.9", "OPERATOR")).isPositive();
        assertThat(throttle.refusedFor("10.9.9.9", "viewer")).isZero();
        advance(SignInThrottle.FIRST_DELAY);
        assertThat(throttle.refusedFor("10.0.0.1", "operator")).isZero();
        throttle.failed("10.0.0.1", "operator");
        assertThat(throttle.refusedFor("10.0.0.1", "operator")).isEqualTo(SignInThrottle.FIRST_DELAY.multipliedBy(2));
        for (int i = 0; i < 30; i++) {
            throttle.failed("10.0.0.1", "operator");
        }
        assertThat(throttle.refusedFor("10.0.0.1", "operator")).isEqualTo(SignInThrottle.MAX_DELAY);
    }

    @Test
    void quietTimeAndASuccessStartTheCountAgain() {
        for (int i = 0; i < 4; i++) {
            throttle.failed("10.0.0.2", "viewer");
        }
        advance(SignInThrottle.QUIET.plusSeconds(1));
        throttle.failed("10.0.0.2", "viewer");
        assertThat(throttle.refusedFor("10.0.0.2", "viewer")).isZero();
        for (int i = 0; i < 3; i++) {
            throttle.failed("10.0.0.3", "admin");
        }
        throttle.succeeded("admin");
        throttle.failed("10.0.0.4", "admin");
        assertThat(throttle.refusedFor("10.0.0.4", "admin")).isZero();
    }

    @Test
    void memoryIsBounded() {
        for (int i = 0; i < 10_000; i++) {
            throttle.failed("10.1." + (i / 250) + "." + (i % 250), "user" + i);
        }
        assertThat(throttle.refusedFor("10.0.0.9", "nobody")).isZero(); // and no OutOfMemoryError on the way
    }

    @Test
    void aRequestCarryingPatientIdentifiersIsSavedWithoutThem() {
        PhiFreeRequestCache cache = new PhiFreeRequestCache();
        MockHttpServletRequest search = new MockHttpServletRequest("GET", "/console/messages");
        search.setQueryString("patient=MRN448812&status=DELIVERED");
        search.setParameter("patient", "MRN448812");
        search.setAttribute(PhiFreeRequestCache.PHI_QUERY, Boolean.TRUE);
        MockHttpServletResponse response = new MockHttpServletResponse();
        cache.saveRequest(search, response);
        SavedRequest saved = cache.getRequest(search, response);
        assertThat(saved.getRedirectUrl()).contains("/console/messages").doesNotContain("MRN").doesNotContain("hidden");
        assertThat(saved.getParameterMap()).isEmpty();

        MockHttpServletRequest plain = new MockHttpServletRequest("GET", "/console/messages");
        plain.setQueryString("status=DEAD");
        plain.setParameter("status", "DEAD");
        cache.saveRequest(plain, response);
        assertThat(cache.getRequest(plain, response).getRedirectUrl()).contains("status=DEAD");
    }
}
