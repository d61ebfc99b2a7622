package org.supplyhub.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The canonical encoding, the chain hash and checkpoint signatures, without Spring or a database. */
class ChainHashTest {

    static final Instant AT = Instant.parse("2026-11-29T12:00:00.123456Z");
    static final AuditRow ROW = new AuditRow(41, 7L, AT, "client:hub-admin", "MESSAGE_READ", "mercy-or", "message 9",
            "OK", "raw", 9L, "pk", "10.0.0.1", 1, null, null);

    @Test
    void theHashIsPinned() {
        // the format is a contract with every chain already written: changing it must be deliberate
        assertThat(ChainHash.of(ChainHash.GENESIS, ROW)).isEqualTo(PINNED);
    }

    static final String PINNED = "d4f6e84227c5def2cbe5cab4ce7082cf6040a052ba10099be2231860e654a168";

    @Test
    void everyColumnAndThePreviousHashCount() {
        List<UnaryOperator<AuditRow>> edits = List.of(
                r -> copy(r, 42, r.seq(), r.at(), r.actor(), r.target(), r.detail(), r.messageId(), r.source(), 1),
                r -> copy(r, r.id(), 8L, r.at(), r.actor(), r.target(), r.detail(), r.messageId(), r.source(), 1),
                r -> copy(r, r.id(), r.seq(), r.at().plusNanos(1000), r.actor(), r.target(), r.detail(), r.messageId(), r.source(), 1),
                r -> copy(r, r.id(), r.seq(), r.at(), "client:other", r.target(), r.detail(), r.messageId(), r.source(), 1),
                r -> copy(r, r.id(), r.seq(), r.at(), r.actor(), "message 8", r.detail(), r.messageId(), r.source(), 1),
                r -> copy(r, r.id(), r.seq(), r.at(), r.actor(), r.target(), "raw ", r.messageId(), r.source(), 1),
                r -> copy(r, r.id(), r.seq(), r.at(), r.actor(), r.target(), r.detail(), null, r.source(), 1),
                r -> copy(r, r.id(), r.seq(), r.at(), r.actor(), r.target(), r.detail(), r.messageId(), "10.0.0.2", 1),
                r -> copy(r, r.id(), r.seq(), r.at(), r.actor(), r.target(), r.detail(), r.messageId(), r.source(), 2));
        Set<String> hashes = new HashSet<>();
        hashes.add(ChainHash.of(ChainHash.GENESIS, ROW));
        for (UnaryOperator<AuditRow> edit : edits) {
            assertThat(hashes.add(ChainHash.of(ChainHash.GENESIS, edit.apply(ROW)))).isTrue();
        }
        assertThat(ChainHash.of("1".repeat(64), ROW)).isNotEqualTo(ChainHash.of(ChainHash.GENESIS, ROW));
    }

    @Test
    void theEncodingIsUnambiguous() {
        // a null is not an empty string, and text cannot move across a field boundary
        AuditRow nullDetail = copy(ROW, 1, 1L, AT, "a", "t", null, null, null, 1);
        AuditRow emptyDetail = copy(ROW, 1, 1L, AT, "a", "t", "", null, null, 1);
        assertThat(ChainHash.encode(nullDetail)).isNotEqualTo(ChainHash.encode(emptyDetail));
        AuditRow ab = copy(ROW, 1, 1L, AT, "ab", "c", "x", null, null, 1);
        AuditRow a = copy(ROW, 1, 1L, AT, "a", "bc", "x", null, null, 1);
        assertThat(ChainHash.encode(ab)).isNotEqualTo(ChainHash.encode(a));
        AuditRow unicode = copy(ROW, 1, 1L, AT, "é", "t", "x", null, null, 1);
        AuditRow latin = copy(ROW, 1, 1L, AT, "e\u0301", "t", "x", null, null, 1);
        assertThat(ChainHash.encode(unicode)).isNotEqualTo(ChainHash.encode(latin));
    }

    @Test
    void timeCountsToTheMicrosecondTheDatabasesKeep() {
        AuditRow nanos = copy(ROW, ROW.id(), ROW.seq(), AT.plusNanos(999), ROW.actor(), ROW.target(), ROW.detail(),
                ROW.messageId(), ROW.source(), 1);
        assertThat(ChainHash.of(ChainHash.GENESIS, nanos)).isEqualTo(ChainHash.of(ChainHash.GENESIS, ROW));
        assertThat(ChainHash.micros(AT)).isEqualTo(1_795_953_600_123_456L);
    }

    @Test
    void anUnsealedRowHasNoHash() {
        AuditRow unsealed = new AuditRow(1, null, AT, "a", "b", null, null, "OK", null, null, null, null, 1, null, null);
        assertThatThrownBy(() -> ChainHash.of(ChainHash.GENESIS, unsealed)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aWalkNamesWhatIsWrong() {
        AuditRow r1 = seal(ChainHash.GENESIS, ROW.at(1));
        AuditRow r2 = seal(r1.hash(), copy(ROW, 42, 2L, AT, "x", "y", "z", null, null, 1));
        AuditRow r3 = seal(r2.hash(), copy(ROW, 43, 3L, AT, "x", "y", "w", null, null, 1));
        ChainWalk ok = new ChainWalk(0, ChainHash.GENESIS);
        assertThat(List.of(r1, r2, r3)).allSatisfy(r -> assertThat(ok.accept(r)).isNull());

        ChainWalk missing = new ChainWalk(0, ChainHash.GENESIS);
        missing.accept(r1);
        assertThat(missing.accept(r3)).extracting(Problem::kind, Problem::id).containsExactly(Problem.Kind.ROW_MISSING, 43L);

        AuditRow edited = new AuditRow(r2.id(), r2.seq(), r2.at(), r2.actor(), r2.action(), r2.interfaceId(), r2.target(),
                r2.outcome(), "changed", r2.messageId(), r2.patientKey(), r2.source(), 1, r2.prevHash(), r2.hash());
        ChainWalk content = new ChainWalk(0, ChainHash.GENESIS);
        content.accept(r1);
        assertThat(content.accept(edited)).extracting(Problem::kind, Problem::id)
                .containsExactly(Problem.Kind.CONTENT_CHANGED, 42L);
        assertThat(content.accept(r3)).as("the walk goes on from the stored hash").isNull();

        // r3 taking r2's place, with its own links: not where its link says
        AuditRow moved = new AuditRow(r3.id(), 2L, r3.at(), r3.actor(), r3.action(), r3.interfaceId(), r3.target(),
                r3.outcome(), r3.detail(), r3.messageId(), r3.patientKey(), r3.source(), 1, r3.prevHash(), r3.hash());
        ChainWalk order = new ChainWalk(0, ChainHash.GENESIS);
        order.accept(r1);
        assertThat(order.accept(moved)).extracting(Problem::kind, Problem::id)
                .containsExactly(Problem.Kind.ORDER_CHANGED, 43L);
    }

    @Test
    void aCheckpointSignatureVerifiesWithThePublicKeyAndNotAfterTampering(@TempDir Path dir) throws Exception {
        Path key = dir.resolve("keys").resolve("audit.pem");
        assertThat(SigningKeys.generateIfMissing(key)).isTrue();
        assertThat(SigningKeys.generateIfMissing(key)).as("kept, not replaced").isFalse();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key.getParent()))).isEqualTo("rwx------");
        assertThat(Files.readString(key)).startsWith("-----BEGIN PRIVATE KEY-----");
        SigningKeys.Signer signer = SigningKeys.load(key);
        var publicKey = SigningKeys.readPublicKey(SigningKeys.publicKeyFile(key));

        Checkpoint c = new Checkpoint(null, "chain-1", 10, "a".repeat(64), 0, ChainHash.GENESIS, AT.plusNanos(7), null,
                null, "PERIODIC", "node-a").signedBy(signer);
        assertThat(c.payload()).isEqualTo("{\"v\":1,\"chain\":\"chain-1\",\"seq\":10,\"hash\":\"" + "a".repeat(64)
                + "\",\"anchorSeq\":0,\"anchorHash\":\"" + ChainHash.GENESIS + "\",\"at\":\"2026-11-29T12:00:00.123456Z\","
                + "\"keyId\":\"" + signer.keyId() + "\"}");
        assertThat(SigningKeys.verify(publicKey, c.payload(), c.signature())).isTrue();

        // the export line carries everything needed to check it again
        Checkpoint exported = Checkpoint.parseExportLine(c.exportLine(new com.fasterxml.jackson.databind.ObjectMapper()),
                new com.fasterxml.jackson.databind.ObjectMapper());
        assertThat(SigningKeys.verify(publicKey, exported.payload(), exported.signature())).isTrue();

        Checkpoint tampered = new Checkpoint(c.id(), c.chainId(), 11, c.hash(), c.anchorSeq(), c.anchorHash(), c.at(),
                c.keyId(), c.signature(), c.reason(), c.node());
        assertThat(SigningKeys.verify(publicKey, tampered.payload(), tampered.signature())).isFalse();

        // another key's public key does not verify it, and a mismatched pair is refused at load
        Path other = dir.resolve("other.pem");
        SigningKeys.generateIfMissing(other);
        assertThat(SigningKeys.verify(SigningKeys.load(other).publicKey(), c.payload(), c.signature())).isFalse();
        Files.copy(SigningKeys.publicKeyFile(other), SigningKeys.publicKeyFile(key),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> SigningKeys.load(key)).isInstanceOf(SigningKeys.AuditKeyException.class)
                .hasMessageContaining("is not the public key of");
    }

    private static AuditRow seal(String prev, AuditRow row) {
        return new AuditRow(row.id(), row.seq(), row.at(), row.actor(), row.action(), row.interfaceId(), row.target(),
                row.outcome(), row.detail(), row.messageId(), row.patientKey(), row.source(), row.eventCount(), prev,
                ChainHash.of(prev, row));
    }

    private static AuditRow copy(AuditRow r, long id, Long seq, Instant at, String actor, String target, String detail,
                                 Long messageId, String source, int count) {
        return new AuditRow(id, seq, at, actor, r.action(), r.interfaceId(), target, r.outcome(), detail, messageId,
                r.patientKey(), source, count, null, null);
    }
}
