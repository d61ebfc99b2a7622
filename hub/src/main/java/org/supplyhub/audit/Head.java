package org.supplyhub.audit;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** The audit_chain_head row: the last sealed place and the anchor (the last pruned place). */
record Head(String chainId, long seq, String hash, long anchorSeq, String anchorHash, long prunedRows) {

    /** Reads it; {@code lock}: {@code for update}, the lock every sealer, checkpoint and prune takes. */
    static Head read(Connection con, boolean lock) throws SQLException {
        try (PreparedStatement ps = con.prepareStatement("select chain_id, seq, hash, anchor_seq, anchor_hash, pruned_rows"
                + " from audit_chain_head where id = 1" + (lock ? " for update" : ""));
             ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("audit_chain_head has no row: the audit chain's head was deleted");
            }
            return new Head(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getLong(4), rs.getString(5), rs.getLong(6));
        }
    }

    /** The chain's id, made on first use (under the head's lock). */
    String ensureChainId(Connection con) throws SQLException {
        if (chainId != null) {
            return chainId;
        }
        String id = java.util.UUID.randomUUID().toString();
        try (PreparedStatement ps = con.prepareStatement(
                "update audit_chain_head set chain_id = ? where id = 1 and chain_id is null")) {
            ps.setString(1, id);
            ps.executeUpdate();
        }
        return id;
    }
}
