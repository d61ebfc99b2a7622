package org.supplyhub.safety;

import ca.uhn.hl7v2.HL7Exception;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.mapping.ProfileLoader;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.UsageMapper;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * Real Mercy messages with the ZIM implant (line 3, used 2026-11-14; item INV-300412, GTIN
 * 00889024123458) edited per test, profiles with a {@code safety} section, and in-memory recall
 * list and implant history (the real ones come from config and the journal's device index).
 */
final class SafetyFixtures {

    static final Hl7Support HL7 = new Hl7Support();
    static final String GTIN = "00889024123458";

    private SafetyFixtures() {
    }

    /** The Mercy sample with its ZIM's UDI (ZIM-2), lot, serial and expiry (ZIM-3..5) replaced. */
    static String mercy(String controlId, String udi, String lot, String serial, String expiry) {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), controlId);
        er7 = Samples.withField(er7, "ZIM", 2, udi);
        er7 = Samples.withField(er7, "ZIM", 3, lot);
        er7 = Samples.withField(er7, "ZIM", 4, serial);
        return Samples.withField(er7, "ZIM", 5, expiry);
    }

    /** A GS1 UDI of the knee component: (01) DI, (17) expiry YYMMDD if given, (10) lot, (21) serial. */
    static String udi(String di, String expiry, String lot, String serial) {
        return "(01)" + di + (expiry == null ? "" : "(17)" + expiry) + "(10)" + lot + "(21)" + serial;
    }

    static String withPatient(String er7, String mrn) {
        return Samples.withField(er7, "PID", 3, mrn + "^^^MERCY^MR");
    }

    static SupplyUsage map(UsageMapper mapper, String er7) {
        try {
            return mapper.map(HL7.parse(er7, mapper.profile().hl7Version()), "ORMGR^MERCY_OR", Samples.controlId(er7),
                    "DFT^P03");
        } catch (HL7Exception e) {
            throw new IllegalArgumentException("the test message does not parse", e);
        }
    }

    /** A copy of the shipped mappings whose mercy-or.yaml ends with {@code safetySection}. */
    static Path mappingsWith(String safetySection) {
        try {
            Path dir = Files.createTempDirectory("safety-mappings");
            Path shipped = TestInterfaces.projectRoot().resolve("mappings");
            try (Stream<Path> files = Files.list(shipped)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    Files.copy(f, dir.resolve(f.getFileName()));
                }
            }
            Path profile = dir.resolve("mercy-or.yaml");
            Files.writeString(profile, Files.readString(profile) + "\n" + safetySection + "\n");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static UsageMapper mercyMapper(String safetySection) {
        return new ProfileLoader(mappingsWith(safetySection)).load("mercy-or", "mercy-or.yaml");
    }

    /** A recall list in memory: one entry per recall, matching DI plus a lot list or a serial range. */
    static final class MemoryRecalls implements RecallIndex {
        record Entry(String di, List<String> lots, String serialFrom, String serialTo, Recall recall) { }

        final List<Entry> entries = new CopyOnWriteArrayList<>();

        MemoryRecalls lots(String di, Recall recall, String... lots) {
            entries.add(new Entry(di, List.of(lots), null, null, recall));
            return this;
        }

        MemoryRecalls serials(String di, Recall recall, String from, String to) {
            entries.add(new Entry(di, List.of(), from, to, recall));
            return this;
        }

        @Override
        public Optional<Recall> find(String di, String lot, String serial) {
            for (Entry e : entries) {
                if (!e.di().equals(di)) {
                    continue;
                }
                if (lot != null && e.lots().contains(lot)) {
                    return Optional.of(e.recall());
                }
                if (serial != null && e.serialFrom() != null && serial.length() == e.serialFrom().length()
                        && serial.compareTo(e.serialFrom()) >= 0 && serial.compareTo(e.serialTo()) <= 0) {
                    return Optional.of(e.recall());
                }
            }
            return Optional.empty();
        }
    }

    /** Implant history in memory: what the journal's device index would answer. */
    static final class MemoryHistory implements ImplantHistory {
        record Use(String di, String serial, PriorImplant prior) { }

        final List<Use> uses = new CopyOnWriteArrayList<>();

        MemoryHistory add(String di, String serial, long messageId, String mrn, OffsetDateTime when) {
            uses.add(new Use(di, serial, new PriorImplant(messageId, "mercy-or",
                    "https://fhir.mercy.example.org/sid/mrn", mrn, when)));
            return this;
        }

        @Override
        public List<PriorImplant> implantsOf(String di, String serial) {
            List<PriorImplant> found = new ArrayList<>();
            for (Use u : uses) {
                if (u.di().equals(di) && u.serial().equals(serial)) {
                    found.add(u.prior());
                }
            }
            return found;
        }
    }
}
