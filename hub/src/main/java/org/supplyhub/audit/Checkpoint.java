package org.supplyhub.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * A signed statement of the chain's state: the head ({@code seq}, {@code hash}) and the anchor (the last
 * pruned row's seq and hash) at {@code at}. The signature covers {@link #payload()}, a JSON text with a
 * fixed field order built from fixed-format values, so it can be rebuilt exactly from a row or an export line.
 */
public record Checkpoint(Long id, String chainId, long seq, String hash, long anchorSeq, String anchorHash, Instant at, String keyId,
                         String signature, String reason, String node) {

    public Checkpoint {
        at = at.truncatedTo(ChronoUnit.MICROS); // what the database keeps
    }

    public String payload() {
        return "{\"v\":1,\"chain\":\"" + chainId + "\",\"seq\":" + seq + ",\"hash\":\"" + hash + "\",\"anchorSeq\":" + anchorSeq
                + ",\"anchorHash\":\"" + anchorHash + "\",\"at\":\"" + DateTimeFormatter.ISO_INSTANT.format(at)
                + "\",\"keyId\":\"" + keyId + "\"}";
    }

    Checkpoint signedBy(SigningKeys.Signer signer) {
        Checkpoint unsigned = new Checkpoint(id, chainId, seq, hash, anchorSeq, anchorHash, at, signer.keyId(), null, reason, node);
        return new Checkpoint(id, chainId, seq, hash, anchorSeq, anchorHash, at, signer.keyId(), signer.sign(unsigned.payload()),
                reason, node);
    }

    /** One line of the export file: the signed fields, the signature and where it came from. */
    public String exportLine(ObjectMapper json) {
        ObjectNode line = json.createObjectNode();
        line.put("chain", chainId).put("seq", seq).put("hash", hash).put("anchorSeq", anchorSeq).put("anchorHash", anchorHash)
                .put("at", DateTimeFormatter.ISO_INSTANT.format(at)).put("keyId", keyId)
                .put("algorithm", SigningKeys.ALGORITHM).put("signature", signature).put("reason", reason)
                .put("node", node);
        if (id != null) {
            line.put("checkpointId", id);
        }
        try {
            return json.writeValueAsString(line);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Checkpoint parseExportLine(String text, ObjectMapper json) throws IOException {
        JsonNode line = json.readTree(text);
        return new Checkpoint(line.hasNonNull("checkpointId") ? line.get("checkpointId").asLong() : null,
                line.path("chain").asText(),
                line.path("seq").asLong(), line.path("hash").asText(), line.path("anchorSeq").asLong(),
                line.path("anchorHash").asText(), Instant.parse(line.path("at").asText()), line.path("keyId").asText(),
                line.path("signature").asText(), line.path("reason").asText(null), line.path("node").asText(null));
    }
}
