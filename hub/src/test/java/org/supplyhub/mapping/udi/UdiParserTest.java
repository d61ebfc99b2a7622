package org.supplyhub.mapping.udi;

import org.junit.jupiter.api.Test;

import java.time.LocalDate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UdiParserTest {

    @Test
    void gs1HumanReadableFromTheMercySample() {
        Udi udi = UdiParser.parse("(01)00889024123458(17)300101(10)LOT7781A(21)SN00042519");
        assertThat(udi.issuer()).isEqualTo(Udi.Issuer.GS1);
        assertThat(udi.issuer().fhirSystem()).isEqualTo("http://hl7.org/fhir/NamingSystem/gs1-di");
        assertThat(udi.deviceIdentifier()).isEqualTo("00889024123458");
        assertThat(udi.expiry()).isEqualTo(LocalDate.of(2030, 1, 1));
        assertThat(udi.lot()).isEqualTo("LOT7781A");
        assertThat(udi.serial()).isEqualTo("SN00042519");
        assertThat(udi.carrierHrf()).isEqualTo("(01)00889024123458(17)300101(10)LOT7781A(21)SN00042519");
    }

    @Test
    void gs1FromTheLakesideSampleWithProductionDate() {
        Udi udi = UdiParser.parse("(01)00643169001763(11)240401(17)290712(10)123ABC(21)21A11F4855");
        assertThat(udi.deviceIdentifier()).isEqualTo("00643169001763");
        assertThat(udi.manufactured()).isEqualTo(LocalDate.of(2024, 4, 1));
        assertThat(udi.expiry()).isEqualTo(LocalDate.of(2029, 7, 12));
        assertThat(udi.serial()).isEqualTo("21A11F4855");
    }

    @Test
    void dayZeroMeansTheLastDayOfTheMonth() {
        assertThat(UdiParser.parse("(01)00889024123458(17)280200").expiry()).isEqualTo(LocalDate.of(2028, 2, 29));
        assertThat(UdiParser.parse("(01)00889024123458(17)270200").expiry()).isEqualTo(LocalDate.of(2027, 2, 28));
        assertThat(UdiParser.parse("(01)00889024123458(17)301100").expiry()).isEqualTo(LocalDate.of(2030, 11, 30));
    }

    @Test
    void centuryFollowsTheGs1Window() {
        int thisYear = LocalDate.now().getYear();
        int fortyAhead = (thisYear + 40) % 100;
        int sixtyAhead = (thisYear + 60) % 100; // more than 50 ahead: last century
        assertThat(UdiParser.parse("(01)00889024123458(17)%02d0101".formatted(fortyAhead)).expiry().getYear())
                .isEqualTo(thisYear + 40);
        assertThat(UdiParser.parse("(01)00889024123458(17)%02d0101".formatted(sixtyAhead)).expiry().getYear())
                .isEqualTo(thisYear + 60 - 100);
    }

    @Test
    void elementStringWithGroupSeparators() {
        Udi udi = UdiParser.parse("]d20100889024123458" + "17300101" + "10LOT7781A\u001d" + "21SN00042519");
        assertThat(udi.deviceIdentifier()).isEqualTo("00889024123458");
        assertThat(udi.expiry()).isEqualTo(LocalDate.of(2030, 1, 1));
        assertThat(udi.lot()).isEqualTo("LOT7781A");
        assertThat(udi.serial()).isEqualTo("SN00042519");
    }

    @Test
    void badCheckDigitBadDatesAndUnknownAisAreRejectedWithTheReason() {
        assertThatThrownBy(() -> UdiParser.parse("(01)00889024123459(17)300101"))
                .isInstanceOf(UdiException.class).hasMessageContaining("check digit is 9, expected 8");
        assertThatThrownBy(() -> UdiParser.parse("(01)00889024123458(17)301301"))
                .hasMessageContaining("(17)").hasMessageContaining("month 13");
        assertThatThrownBy(() -> UdiParser.parse("(01)00889024123458(17)300231"))
                .hasMessageContaining("not a valid date");
        assertThatThrownBy(() -> UdiParser.parse("(01)00889024123458(99)ABC"))
                .hasMessageContaining("(99) is not supported");
        assertThatThrownBy(() -> UdiParser.parse("(17)300101(10)LOT"))
                .hasMessageContaining("device identifier (01) is missing");
        assertThatThrownBy(() -> UdiParser.parse("(01)0088902412345"))
                .hasMessageContaining("14 digits");
        assertThatThrownBy(() -> UdiParser.parse("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> UdiParser.parse("SN-12345")).hasMessageContaining("not a GS1 or HIBCC UDI");
    }

    @Test
    void gtinCheckDigits() {
        assertThat(UdiParser.isValidGtin("00889024123458")).isTrue();
        assertThat(UdiParser.isValidGtin("10705031012349")).isTrue();
        assertThat(UdiParser.isValidGtin("10705031012348")).isFalse();
        assertThat(UdiParser.isValidGtin("4006381333931")).isTrue(); // a GTIN-13
        assertThat(UdiParser.isValidGtin("12345")).isFalse();
    }

    @Test
    void hibccPrimaryAndSecondary() {
        String primary = "+A123BJC5D6E71";
        Udi udi = UdiParser.parse(primary + check(primary));
        assertThat(udi.issuer()).isEqualTo(Udi.Issuer.HIBCC);
        assertThat(udi.deviceIdentifier()).isEqualTo("A123BJC5D6E71");
        assertThat(udi.lot()).isNull();

        String withLot = "+A123BJC5D6E71/$$3301231LOT42";
        Udi lot = UdiParser.parse(withLot + check(withLot));
        assertThat(lot.deviceIdentifier()).isEqualTo("A123BJC5D6E71");
        assertThat(lot.expiry()).isEqualTo(LocalDate.of(2030, 12, 31));
        assertThat(lot.lot()).isEqualTo("LOT42");

        String withSerial = "+A123BJC5D6E71/$$+7SER9";
        assertThat(UdiParser.parse(withSerial + check(withSerial)).serial()).isEqualTo("SER9");
    }

    @Test
    void hibccWithAWrongCheckCharacterIsRejected() {
        String primary = "+A123BJC5D6E71";
        char wrong = check(primary) == 'A' ? 'B' : 'A';
        assertThatThrownBy(() -> UdiParser.parse(primary + wrong))
                .hasMessageContaining("check character is '" + wrong + "', expected '" + check(primary) + "'");
    }

    /** The HIBC modulo-43 check character, computed here independently of the parser. */
    private static char check(String data) {
        String set = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";
        int sum = data.chars().map(set::indexOf).sum();
        return set.charAt(sum % 43);
    }
}
