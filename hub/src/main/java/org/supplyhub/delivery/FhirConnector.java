package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.IRestfulClientFactory;
import ca.uhn.fhir.rest.client.exceptions.FhirClientConnectionException;
import ca.uhn.fhir.rest.param.ParameterUtil;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import org.springframework.stereotype.Component;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Posts the message's transaction Bundle to a FHIR server's base URL. Every entry is a conditional
 * create on the resource's identifier, so a retry creates nothing twice. 5xx, 408, 429 or no answer
 * → retry; any other 4xx → dead with the server's status.
 * <p>
 * Each destination has a FhirContext of its own: HAPI's client takes its timeouts from the
 * context's client factory, so destinations sharing one would overwrite each other's.
 */
@Component
public class FhirConnector implements Connector {

    private final FhirContext fhir;
    private final OutboundTokens tokens;
    private final Map<String, IGenericClient> clients = new ConcurrentHashMap<>();

    public FhirConnector(FhirContext fhir, OutboundTokens tokens) {
        this.fhir = fhir;
        this.tokens = tokens;
    }

    @Override
    public String send(DestinationDefinition d, Payload payload) throws DeliveryException {
        IGenericClient client = clients.computeIfAbsent(d.name(), name -> client(d));
        try {
            var transaction = client.transaction().withBundle(new String(payload.body(), StandardCharsets.UTF_8));
            if (d.oauth2Registration() != null) {
                transaction.withAdditionalHeader("Authorization", "Bearer " + tokens.bearer(d));
            }
            transaction.execute();
            return "200";
        } catch (FhirClientConnectionException e) {
            throw new DeliveryException("no answer from " + d.url().getHost(), "IO", false, e);
        } catch (BaseServerResponseException e) {
            int code = e.getStatusCode();
            if ((code == 401 || code == 403) && d.oauth2Registration() != null) {
                throw tokens.refused(d, code, d.url().getHost());
            }
            boolean retry = code == 408 || code == 429 || code >= 500;
            throw new DeliveryException("HTTP " + code + " from " + d.url().getHost(), String.valueOf(code), !retry, e);
        }
    }

    private IGenericClient client(DestinationDefinition d) {
        FhirContext own = FhirContext.forVersion(fhir.getVersion().getVersion());
        own.setParserOptions(fhir.getParserOptions());
        IRestfulClientFactory factory = own.getRestfulClientFactory();
        factory.setServerValidationMode(fhir.getRestfulClientFactory().getServerValidationMode());
        factory.setSocketTimeout((int) d.timeout().toMillis());
        factory.setConnectTimeout((int) d.timeout().toMillis());
        factory.setConnectionRequestTimeout((int) d.timeout().toMillis());
        return own.newRestfulGenericClient(d.url().toString());
    }

    /**
     * The {@code ifNoneExist} of a conditional create on an identifier: a URL query, so system and
     * value are escaped as FHIR search values ({@code \|}, {@code \,}, {@code \$}, {@code \\}) and
     * then percent-encoded where a query needs it ({@code &}, {@code #}, {@code +}, {@code %}, spaces,
     * non-ASCII…), so a value with any of them matches exactly itself. What a URL may carry as is
     * ({@code https://…}) stays readable.
     */
    static String identifierCondition(String system, String value) {
        return "identifier=" + queryValue(system) + "|" + queryValue(value);
    }

    private static final String QUERY_SAFE = "-._~:/@!'()*,;$";

    private static String queryValue(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : ParameterUtil.escape(text).getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || QUERY_SAFE.indexOf(c) >= 0) {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
