package org.supplyhub.journal.crypto;

import java.nio.charset.StandardCharsets;

/**
 * The journal's encrypted columns. Each value's additional authenticated data names its column, so a
 * ciphertext copied into another column (a serial into a patient column, a raw message into another
 * table) fails its tag instead of decrypting there.
 */
public enum Column {
    MESSAGE_RAW("message.raw"),
    MESSAGE_ACK("message.ack"),
    MESSAGE_ERROR("message.error"),
    MESSAGE_USAGE("message.usage_json"),
    OUTPUT_RESOURCE("message_output.resource_json"),
    DEVICE_LOT("device_use.lot"),
    DEVICE_SERIAL("device_use.serial"),
    DEVICE_PATIENT("device_use.patient_value"),
    DEVICE_ACCOUNT("device_use.account"),
    FLAG_LOT("implant_flag.lot"),
    FLAG_SERIAL("implant_flag.serial"),
    FLAG_DETAIL("implant_flag.detail");

    private final byte[] aad;

    Column(String name) {
        this.aad = name.getBytes(StandardCharsets.US_ASCII);
    }

    byte[] aad() {
        return aad;
    }
}
