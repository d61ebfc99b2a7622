package org.supplyhub.safety;

import ca.uhn.hl7v2.ErrorCode;
import org.hl7.fhir.r4.model.DetectedIssue;
import org.hl7.fhir.r4.model.Device;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;
import org.supplyhub.mapping.ConfigurationException;
import org.supplyhub.mapping.FhirMapper;
import org.supplyhub.mapping.MappingException;
import org.supplyhub.mapping.MappingProfile;
import org.supplyhub.mapping.MappingProfile.SafetyAction;
import org.supplyhub.mapping.MappingProfile.SafetyRule;
import org.supplyhub.mapping.ProfileLoader;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.SupplyUsage.Flag;
import org.supplyhub.mapping.UsageMapper;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.TestInterfaces;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.supplyhub.safety.SafetyFixtures.GTIN;
import static org.supplyhub.safety.SafetyFixtures.map;
import static org.supplyhub.safety.SafetyFixtures.mercy;
import static org.supplyhub.safety.SafetyFixtures.udi;

/** The checks on real Mercy messages, each action, without Spring or a database. */
class ImplantChecksTest {

    static final UsageMapper MERCY = new ProfileLoader(TestInterfaces.projectRoot().resolve("mappings"))
            .load("mercy-or", "mercy-or.yaml");
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-29T09:00:00Z"), ZoneOffset.UTC);
    static final MappingProfile.Safety DEFAULTS = MappingProfile.Safety.DEFAULTS;
    static final Recall CLASS_I = new Recall("Z-0412-2026", Recall.RecallClass.I, LocalDate.of(2026, 10, 2),
            "femoral component: cement mantle failure");
    static final Recall CLASS_II = new Recall("Z-0977-2026", Recall.RecallClass.II, LocalDate.of(2026, 9, 15), null);

    final SafetyFixtures.MemoryRecalls recalls = new SafetyFixtures.MemoryRecalls();
    final SafetyFixtures.MemoryHistory history = new SafetyFixtures.MemoryHistory();
    final ImplantChecks checks = new ImplantChecks(recalls, history, CLOCK);

    SupplyUsage check(UsageMapper mapper, String er7, MappingProfile.Safety policy, Long self) {
        return checks.check(map(mapper, er7), policy, self, mapper::devicePath);
    }

    SupplyUsage check(String er7) {
        return check(MERCY, er7, DEFAULTS, null);
    }

    static MappingProfile.Safety policy(SafetyRule expired, SafetyRule recalled, SafetyRule suspect) {
        return new MappingProfile.Safety(expired, recalled, suspect);
    }

    static SafetyRule rule(SafetyAction action) {
        return new SafetyRule(action, false);
    }

    @Test
    void theSampleAsSentRaisesNothing() {
        SupplyUsage usage = check(SafetyFixtures.mercy("OK-1", udi(GTIN, "300101", "LOT7781A", "SN00042519"),
                "LOT7781A", "SN00042519", "20300101"));
        assertThat(usage.flags()).isEmpty();
    }

    @Test
    void expiredBeforeUseIsFlaggedAndDay00IsTheMonthsLastDay() {
        // (17)261000: YYMM00 is 31 October 2026, before the use on 14 November
        SupplyUsage expired = check(mercy("EXP-1", udi(GTIN, "261000", "LOT7781A", "SN1"), "", "", ""));
        assertThat(expired.flags()).singleElement().satisfies(f -> {
            assertThat(f.check()).isEqualTo("expired");
            assertThat(f.line()).isEqualTo(3);
            assertThat(f.severity()).isEqualTo("high");
            assertThat(f.detail()).contains("expired on 2026-10-31", "before its use on 2026-11-14")
                    .doesNotContain("MRN448812");
            assertThat(f.holdCharge()).isFalse();
            assertThat(f.identified()).isEqualTo(OffsetDateTime.parse("2026-11-29T09:00:00Z"));
        });
        // (17)261100 is 30 November (not 1 November): still good on the 14th
        assertThat(check(mercy("EXP-2", udi(GTIN, "261100", "LOT7781A", "SN1"), "", "", "")).flags()).isEmpty();
        // the expiry day itself is still usable
        assertThat(check(mercy("EXP-3", udi(GTIN, "261114", "LOT7781A", "SN1"), "", "", "")).flags()).isEmpty();
        assertThat(check(mercy("EXP-4", udi(GTIN, "261113", "LOT7781A", "SN1"), "", "", "")).flags()).hasSize(1);
    }

    @Test
    void expiryFromTheProfilesExpiryFieldCountsToo() {
        // no AI 17 in the UDI: ZIM-5 is the expiry
        SupplyUsage usage = check(mercy("EXP-5", udi(GTIN, null, "LOT7781A", "SN1"), "", "", "20261101"));
        assertThat(usage.flags()).extracting(Flag::reason).containsExactly("expired");
    }

    @Test
    void expiredRejectedIsAnAeNamingTheExpiryField() {
        String er7 = mercy("EXP-6", udi(GTIN, "261000", "LOT7781A", "SN1"), "", "", "");
        assertThatThrownBy(() -> check(MERCY, er7, policy(rule(SafetyAction.reject), DEFAULTS.recalled(),
                DEFAULTS.suspect()), null))
                .isInstanceOfSatisfying(MappingException.class, e -> {
                    assertThat(e.path()).isEqualTo("ZIM-5");
                    assertThat(e.lineIndex()).isEqualTo(3);
                    assertThat(e.getMessage()).contains("ZIM-5 (line 3)", "expired on 2026-10-31", "safety.expired: reject");
                });
        assertThat(check(MERCY, er7, policy(rule(SafetyAction.accept), DEFAULTS.recalled(), DEFAULTS.suspect()), null)
                .flags()).isEmpty();
    }

    @Test
    void recalledByLot() {
        recalls.lots(GTIN, CLASS_I, "LOT0001", "LOT7781A");
        SupplyUsage usage = check(mercy("REC-1", udi(GTIN, "300101", "LOT7781A", "SN00042519"), "", "", ""));
        assertThat(usage.flags()).singleElement().satisfies(f -> {
            assertThat(f.check()).isEqualTo("recalled");
            assertThat(f.severity()).isEqualTo("high"); // class I
            assertThat(f.recallNumber()).isEqualTo("Z-0412-2026");
            assertThat(f.detail()).contains("recall Z-0412-2026 (class I, 2026-10-02)", "cement mantle failure");
        });
        assertThat(check(mercy("REC-2", udi(GTIN, "300101", "LOT9999Z", "SN00042519"), "", "", "")).flags()).isEmpty();
    }

    @Test
    void recalledBySerialRangeWithItsChargeHeldWhenTheProfileSaysSo() {
        recalls.serials(GTIN, CLASS_II, "SN00042000", "SN00042999");
        MappingProfile.Safety hold = policy(DEFAULTS.expired(), new SafetyRule(SafetyAction.flag, true), DEFAULTS.suspect());
        SupplyUsage inRange = check(MERCY, mercy("REC-3", udi(GTIN, "300101", "LOTX", "SN00042519"), "", "", ""), hold, null);
        assertThat(inRange.flags()).singleElement().satisfies(f -> {
            assertThat(f.reason()).isEqualTo("recalled");
            assertThat(f.severity()).isEqualTo("moderate"); // class II
            assertThat(f.holdCharge()).isTrue();
        });
        assertThat(inRange.chargeHeld(3)).isTrue();
        assertThat(inRange.chargeHeld(1)).isFalse();
        assertThat(check(MERCY, mercy("REC-4", udi(GTIN, "300101", "LOTX", "SN00043000"), "", "", ""), hold, null)
                .flags()).isEmpty();
    }

    @Test
    void sameSerialInAnotherPatientIsRejectedByDefaultAndFlaggedWhenConfigured() {
        history.add(GTIN, "SN00042519", 41, "MRN000777", OffsetDateTime.parse("2026-10-01T10:00:00-05:00"));
        String er7 = mercy("SER-1", udi(GTIN, "300101", "LOT7781A", "SN00042519"), "", "", "");
        assertThatThrownBy(() -> check(er7)).isInstanceOfSatisfying(MappingException.class, e -> {
            assertThat(e.path()).isEqualTo("ZIM-4");
            assertThat(e.errorCode()).isEqualTo(ErrorCode.DUPLICATE_KEY_IDENTIFIER);
            // outward text (ERR, DetectedIssue, flag row): no other message, interface, date or patient
            assertThat(e.getMessage()).contains("was implanted earlier in another patient")
                    .doesNotContain("MRN000777", "message 41", "mercy-or", "2026-10-01");
        });
        SupplyUsage flagged = check(MERCY, er7, policy(DEFAULTS.expired(), DEFAULTS.recalled(), rule(SafetyAction.flag)), null);
        assertThat(flagged.flags()).extracting(Flag::reason).containsExactly("serial-other-patient");
        assertThat(flagged.flags().get(0).detail()).startsWith("device DI ")
                .endsWith(" lot LOT7781A serial SN00042519 was implanted earlier in another patient");
    }

    @Test
    void aSerialSeenAgainInTheSamePatientIsSuspectButAReprocessDoesNotFlagItself() {
        history.add(GTIN, "SN00042519", 42, "MRN448812", OffsetDateTime.parse("2026-10-01T08:00:00-05:00"));
        MappingProfile.Safety flag = policy(DEFAULTS.expired(), DEFAULTS.recalled(), rule(SafetyAction.flag));
        String er7 = mercy("SER-2", udi(GTIN, "300101", "LOT7781A", "SN00042519"), "", "", "");
        assertThat(check(MERCY, er7, flag, null).flags()).extracting(Flag::reason).containsExactly("serial-reused");
        // message 42 mapped again: its own use is not "seen before"
        assertThat(check(MERCY, er7, flag, 42L).flags()).isEmpty();
    }

    @Test
    void theSameImplantationReportedAgainUnderANewControlIdIsNotASecondUse() {
        // line 3 was used 2026-11-14 09:20 Mercy time; message 43 reported that very use
        history.add(GTIN, "SN00042519", 43, "MRN448812", OffsetDateTime.parse("2026-11-14T15:20:00Z"));
        assertThat(check(mercy("SER-3", udi(GTIN, "300101", "LOT7781A", "SN00042519"), "", "", "")).flags()).isEmpty();
        // the same time in another patient is still another patient
        history.add(GTIN, "SN00042519", 44, "MRN000777", OffsetDateTime.parse("2026-11-14T15:20:00Z"));
        assertThatThrownBy(() -> check(mercy("SER-4", udi(GTIN, "300101", "LOT7781A", "SN00042519"), "", "", "")))
                .isInstanceOf(MappingException.class).hasMessageContaining("another patient");
    }

    @Test
    void diGtinMismatchIsAnAeByDefaultAndAFlagWhenTheProfileSaysSo() {
        String other = "00889024999992"; // a valid GTIN, not the knee component's
        String er7 = mercy("DI-1", udi(other, "300101", "LOT7781A", "SN1"), "", "", "");
        assertThatThrownBy(() -> map(MERCY, er7)).isInstanceOfSatisfying(MappingException.class, e -> {
            assertThat(e.path()).isEqualTo("ZIM-2");
            assertThat(e.getMessage()).contains("does not match the item master GTIN " + GTIN);
        });

        UsageMapper flagging = SafetyFixtures.mercyMapper("safety: { suspect: flag }");
        SupplyUsage usage = check(flagging, er7, flagging.profile().safetyPolicy(), null);
        assertThat(usage.flags()).singleElement().satisfies(f -> {
            assertThat(f.reason()).isEqualTo("di-mismatch");
            assertThat(f.check()).isEqualTo("suspect");
            assertThat(f.detail()).contains(other, GTIN, "INV-300412");
        });

        UsageMapper accepting = SafetyFixtures.mercyMapper("safety: { suspect: accept }");
        assertThat(check(accepting, er7, accepting.profile().safetyPolicy(), null).flags()).isEmpty();
    }

    @Test
    void aCreditReturnsADeviceAndIsNotChecked() {
        String er7 = mercy("CR-1", udi(GTIN, "261000", "LOT7781A", "SN1"), "", "", "");
        er7 = er7.replace("|CG|278009041", "|CD|278009041");
        assertThat(check(er7).flags()).isEmpty();
    }

    @Test
    void aFlagBecomesAValidR4DetectedIssueImplicatingTheDevice() {
        recalls.lots(GTIN, CLASS_I, "LOT7781A");
        SupplyUsage usage = check(mercy("FHIR-1", udi(GTIN, "261000", "LOT7781A", "SN00042519"), "", "", ""));
        assertThat(usage.flags()).extracting(Flag::reason).containsExactly("expired", "recalled");
        List<Resource> resources = FhirMapper.toFhir(usage, MERCY.profile().systems());
        List<DetectedIssue> issues = resources.stream().filter(DetectedIssue.class::isInstance)
                .map(DetectedIssue.class::cast).toList();
        Device device = resources.stream().filter(Device.class::isInstance).map(Device.class::cast).findFirst().orElseThrow();
        assertThat(issues).hasSize(2);
        for (DetectedIssue issue : issues) {
            R4Validator.assertValid(issue);
            assertThat(issue.getStatus()).isEqualTo(DetectedIssue.DetectedIssueStatus.FINAL);
            assertThat(issue.getPatient().getIdentifier().getValue()).isEqualTo("MRN448812");
            assertThat(issue.getPatient().getIdentifier().getSystem()).isEqualTo("https://fhir.mercy.example.org/sid/mrn");
            assertThat(issue.getImplicatedFirstRep().getReference()).isEqualTo("urn:uuid:" + device.getIdElement().getIdPart());
            assertThat(issue.getIdentifiedDateTimeType().getValueAsString()).startsWith("2026-11-29T09:00:00");
            assertThat(issue.getSeverity()).isEqualTo(DetectedIssue.DetectedIssueSeverity.HIGH);
        }
        assertThat(issues.get(0).getCode().getCoding()).extracting(c -> c.getSystem() + "|" + c.getCode())
                .containsExactly(FhirMapper.IMPLANT_SAFETY + "|expired");
        assertThat(issues.get(1).getCode().getCoding()).extracting(c -> c.getSystem() + "|" + c.getCode())
                .containsExactly(FhirMapper.IMPLANT_SAFETY + "|recalled");
        assertThat(issues.get(1).getDetail()).contains("Z-0412-2026");
        // mapped again, the same ids: a resend or reprocess makes no second issue at the FHIR server
        List<Resource> again = FhirMapper.toFhir(usage, MERCY.profile().systems());
        assertThat(again.stream().filter(DetectedIssue.class::isInstance).map(r -> r.getIdElement().getIdPart()))
                .containsExactlyElementsOf(issues.stream().map(r -> r.getIdElement().getIdPart()).toList());
    }

    @Test
    void theSafetySectionIsCheckedAtLoadWithFileAndLine() {
        assertThatThrownBy(() -> SafetyFixtures.mercyMapper("safety:\n  expired: warn"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("mappings/mercy-or.yaml: line")
                .hasMessageContaining("'warn' is not an action: accept, flag or reject");
        assertThatThrownBy(() -> SafetyFixtures.mercyMapper("safety:\n  recalled: { action: reject, holdCharge: true }"))
                .isInstanceOfSatisfying(ConfigurationException.class, e -> assertThat(e.getMessage())
                        .matches("mappings/mercy-or.yaml: line 6\\d: safety.recalled.holdCharge needs action flag.*"));
        assertThatThrownBy(() -> SafetyFixtures.mercyMapper("safety:\n  expird: flag"))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("unknown key 'expird'");
        assertThatThrownBy(() -> SafetyFixtures.mercyMapper("safety:\n  suspect: { holdCharge: true }"))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("safety.suspect.action is required");

        MappingProfile.Safety loaded = SafetyFixtures.mercyMapper(
                "safety: { expired: flag, recalled: { action: flag, holdCharge: true }, suspect: reject }").profile().safetyPolicy();
        assertThat(loaded.recalled()).isEqualTo(new SafetyRule(SafetyAction.flag, true));
        assertThat(loaded.expired()).isEqualTo(new SafetyRule(SafetyAction.flag, false));
        assertThat(MERCY.profile().safetyPolicy()).isEqualTo(DEFAULTS);
    }
}
