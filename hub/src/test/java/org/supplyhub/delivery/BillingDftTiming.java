package org.supplyhub.delivery;

import org.supplyhub.support.CpuCases;

import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.SupplyUsage.Line;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;

/**
 * What the billing DFT of the Mercy sample costs, in CPU time of the thread rendering it (a command,
 * not a test): HAPI's message built with {@code initQuickstart} + {@code Terser.set} and encoded
 * (before), against {@link BillingDft} (now), and the whole {@code render} of a file destination.
 * Medians of the rounds after two warm-up rounds.
 *
 * <pre>java -cp hub/target/test-classes:hub/target/classes:$(cat cp.txt) org.supplyhub.delivery.BillingDftTiming [messages] [rounds]</pre>
 */
public final class BillingDftTiming {

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        Hl7Support hl7 = new Hl7Support();
        Payloads payloads = new Payloads(hl7, PayloadsTest.JSON);
        SupplyUsage usage = PayloadsTest.journaled(org.supplyhub.support.Samples.read(org.supplyhub.support.Samples.MERCY));
        DestinationDefinition d = PayloadsTest.CATALOG.destination("mercy-billing");
        List<Line> lines = usage.lines().stream().filter(Line::chargeable).toList();
        BillingDft writer = new BillingDft(hl7, Clock.systemDefaultZone());
        System.out.printf("Billing DFT of the Mercy sample (%d FT1), %d messages a round, %d rounds%n", lines.size(), n, rounds);
        CpuCases.printMedians(List.of(
                new CpuCases.Case("before: HAPI billingDft + encode + UTF-8",
                        () -> hl7.encode(payloads.billingDft(d, 7, usage, lines)).getBytes(StandardCharsets.UTF_8).length),
                new CpuCases.Case("now: BillingDft.compose + UTF-8",
                        () -> writer.compose(d, 7, usage, lines).getBytes(StandardCharsets.UTF_8).length),
                new CpuCases.Case("now: Payloads.render (file destination)",
                        () -> payloads.render(d, 7, 3, usage, List.of()).body().length)), n, rounds, 2);
    }
}
