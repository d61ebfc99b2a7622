package org.supplyhub.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.Location;
import ca.uhn.hl7v2.model.Message;
import org.supplyhub.support.Samples;

import java.util.Arrays;

/**
 * µs per ACK, HAPI's generateACK + encode against {@link AckBuilder}, for an AA and an AE with a
 * located error (a 2.5.1 message parsed into the 2.8 model, as the Lakeside profile does). Run by
 * hand (not a test: the figure depends on the machine): rounds alternate, medians printed.
 */
public final class AckTiming {

    public static void main(String[] args) throws HL7Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        Hl7Support hl7 = new Hl7Support();
        Message inbound = hl7.parse(Samples.read(Samples.MERCY), "2.8");
        String charset = "UNICODE UTF-8";
        for (boolean withError : new boolean[]{false, true}) {
            AcknowledgmentCode code = withError ? AcknowledgmentCode.AE : AcknowledgmentCode.AA;
            double[] hapi = new double[rounds];
            double[] direct = new double[rounds];
            for (int warm = 0; warm < 3; warm++) {
                time(() -> hl7.hapiAck(inbound, code, error(withError), null, charset), n);
                time(() -> hl7.ack(inbound, code, error(withError), charset), n);
            }
            for (int r = 0; r < rounds; r++) {
                hapi[r] = time(() -> hl7.hapiAck(inbound, code, error(withError), null, charset), n);
                direct[r] = time(() -> hl7.ack(inbound, code, error(withError), charset), n);
            }
            System.out.printf("%s: HAPI generateACK+encode %.2f µs/ACK, AckBuilder %.2f µs/ACK (medians of %d rounds of %d; "
                            + "HAPI rounds %s, direct rounds %s)%n", code, median(hapi), median(direct), rounds, n,
                    Arrays.toString(round(hapi)), Arrays.toString(round(direct)));
        }
        System.out.println("fallbacks: " + hl7.ackFallbacks());
    }

    private static HL7Exception error(boolean withError) {
        if (!withError) {
            return null;
        }
        HL7Exception e = new HL7Exception("FT1-7 names no item of the item master", ErrorCode.TABLE_VALUE_NOT_FOUND);
        e.setLocation(new Location().withSegmentName("FT1").withSegmentRepetition(2).withField(7).withComponent(1));
        return e;
    }

    private static double time(Runnable ack, int n) {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            ack.run();
        }
        return (System.nanoTime() - start) / 1_000.0 / n;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static double[] round(double[] values) {
        return Arrays.stream(values).map(v -> Math.round(v * 100) / 100.0).toArray();
    }
}
