package org.supplyhub.delivery;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.supplyhub.mapping.FhirRenderer;

/**
 * {@code hub_render_fallbacks_total{output}}: payloads HAPI built because a direct writer leaves their
 * shape to it — {@code fhir} ({@link org.supplyhub.mapping.FhirJsonWriter}: dates outside 1600–9999,
 * offsets with seconds) and {@code dft} ({@link BillingDft}: a HAPI context it does not reproduce).
 * Zero in normal operation; a rise says which writer a kind of message falls out of. Like
 * {@code hub_ack_fallbacks_total} for ACKs.
 */
@Configuration(proxyBeanMethods = false)
class RenderMeters {

    @Bean
    MeterBinder renderFallbackMeters(FhirRenderer fhir, Payloads payloads) {
        return meters -> {
            FunctionCounter.builder("hub.render.fallbacks", fhir, FhirRenderer::hapiFallbacks).tag("output", "fhir")
                    .description("FHIR resources encoded by HAPI instead of the direct writer").register(meters);
            FunctionCounter.builder("hub.render.fallbacks", payloads, Payloads::dftFallbacks).tag("output", "dft")
                    .description("Billing DFTs built and encoded by HAPI instead of the direct writer").register(meters);
        };
    }
}
