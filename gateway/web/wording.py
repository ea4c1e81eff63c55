"""Words an operator reads, in the operator's language: a plain explanation of every finding code, and the
few pieces of machine language that reach a finding's message from below (libxml2's English parser errors,
command-line flags, configuration keys) said in Spanish; amounts with thousands separators.

The checks themselves write Spanish messages for customs and tax people; this module is the last step
before the page, so the CLI, the API and the canonical output keep the exact text the checks produced.
"""

from __future__ import annotations

import re

from gateway.findings import CODES

#: What each finding code means, for an operator who has not met it before (English: ``CODES``).
EXPLAIN_ES: dict[str, str] = {
    "FILE-EMPTY": "El archivo llegó vacío (0 bytes). Pida al remitente que lo envíe de nuevo.",
    "FILE-TOO-LARGE": "El archivo es más grande que el límite configurado; no se procesó.",
    "FILE-ENCODING": "No se pudo leer el texto del archivo (codificación de caracteres desconocida o dañada).",
    "FILE-UNKNOWN-KIND": "No se reconoce qué documento es (ni CFDI, ni pedimento, ni COVE, ni exportación del ERP).",
    "FILE-UNREADABLE": "No se pudo leer el archivo (no existe o no hay permiso para abrirlo).",
    "XML-MALFORMED": "El XML está roto: falta un cierre, una comilla o el archivo está cortado. Suele ser una "
                     "descarga o copia incompleta; pida el archivo original.",
    "XML-FORBIDDEN": "El XML declara un DTD o entidades; se rechaza por seguridad sin abrirlo.",
    "XML-SCHEMALOCATION": "Defecto conocido de las descargas masivas del SAT en xsi:schemaLocation; se corrigió "
                          "solo, es un aviso.",
    "XSD": "El documento no cumple el esquema oficial (XSD): falta un dato obligatorio, sobra uno o un valor "
           "tiene un formato no permitido.",
    "XSD-UNKNOWN-COMPLEMENT": "Trae un complemento del que el SAT no publica esquema: se nombra, no se valida.",
    "CFDI-VERSION": "Versión de CFDI no admitida (se aceptan CFDI 4.0).",
    "CFDI-TFD-MISSING": "La factura no está timbrada: debe traer exactamente un Timbre Fiscal Digital.",
    "CFDI-TOTALS": "Los importes no cuadran: SubTotal, Descuento, impuestos o Total no corresponden a la suma "
                   "de los conceptos.",
    "CFDI-CCE-MISSING": "Factura de exportación sin el complemento de Comercio Exterior.",
    "CFDI-CCE-USD": "En Comercio Exterior, TotalUSD no es la suma de los ValorDolares de las mercancías.",
    "CCE-NOIDENTIFICACION": "Una mercancía del complemento de Comercio Exterior no corresponde a ningún concepto.",
    "CFDI-SEAL": "Un sello o su certificado no verifica: la factura se alteró después de sellarse o el sello "
                 "no es de quien dice.",
    "CFDI-SAT-CERT-UNKNOWN": "El certificado del SAT que timbró no está en el almacén local de certificados.",
    "RFC-INVALID": "Un RFC está mal formado (error) o su dígito verificador no cuadra (aviso: el SAT emitió "
                   "algunos así).",
    "INTERNAL": "Falla interna del gateway con este documento; queda en la cola para reintentarlo al corregirse.",
    "FILE-ARCHIVE": "Un archivo comprimido (ZIP del Data Stage, XLSX) trae un miembro cifrado o no se puede abrir.",
    "LIMIT": "El archivo rebasa un límite de seguridad configurado (tamaño expandido, largo de línea, filas…).",
    "FILE-INTERNAL-FORMAT": "El archivo tiene la forma de una parte que el propio gateway genera; no se aceptan "
                            "de fuera.",
    "DELIVERY-FAILED": "La entrega al sistema destino falló de forma definitiva (se agotaron los intentos).",
    "ERP-MAPPING": "La configuración del mapeo del ERP no corresponde a la exportación (columna u hoja faltante).",
    "ERP-ROW": "Una fila de la exportación del ERP trae un valor faltante, mal escrito o fuera de rango.",
    "ERP-UNKNOWN-PART": "Una lista de materiales, recepción o embarque nombra un número de parte que no está en el "
                        "maestro de materiales.",
    "ERP-CATALOG": "Un código de una fila del ERP (unidad, UMT, país, fracción, NICO) no está en su catálogo.",
    "ERP-DUPLICATE": "Una fila repite la clave de otra (error si trae otros valores; aviso si es idéntica).",
    "PED-LAYOUT": "Un registro del pedimento tiene un número de campos, un tipo o un largo distinto al del "
                  "formato oficial.",
    "PED-SEQUENCE": "Faltan registros del pedimento, están en desorden o no se anidan como exige el formato.",
    "PED-NUMBER": "El número de pedimento está mal formado (patente, aduana, dígito del año o consecutivo).",
    "PED-CATALOG": "Una clave no está en su catálogo del Anexo 22.",
    "PED-FRACCION": "La fracción arancelaria o el NICO están mal formados.",
    "PED-TOTALS": "Los valores del pedimento no cuadran (partidas contra facturas, contribuciones, valor contra "
                  "precio × cantidad).",
    "PED-IMMEX": "Clave IMMEX sin el identificador del programa, o programa/RFC que no es el de la empresa.",
    "IMMEX-CLOCK": "No se puede calcular el plazo de retorno de la importación temporal (falta una fecha válida).",
    "IMMEX-ORIGINAL-MISSING": "El pedimento original que descarga este pedimento (512) no llegó al gateway a tiempo.",
    "IMMEX-DISCHARGE-FRACCION": "El descargo (512) nombra una fracción que el pedimento original no tiene.",
    "IMMEX-DISCHARGE-LATE": "El descargo (512) tiene fecha posterior al plazo de retorno del pedimento original.",
    "IMMEX-OVER-DISCHARGE": "Los descargos de una fracción suman más de lo que se importó (en UMT).",
    "DOC-RESEND": "El mismo documento (misma clave) ya se había recibido con otro contenido; quedan vinculados.",
    "COVE-ID": "El identificador del COVE (COVE + 9) o de la adenda (ADEN + 9 dígitos) está mal formado.",
    "COVE-TOTALS": "En el COVE, cantidad × valor unitario no da el total, o el valor en dólares no corresponde.",
    "COVE-VUCEM-ERROR": "VUCEM respondió con errores: no se emitió el COVE de la factura o la consulta falló.",
    "XDOC-COVE-MISSING": "El COVE que declara el pedimento no llegó a tiempo.",
    "XDOC-CFDI-MISSING": "La factura (UUID) que declara el pedimento no llegó dentro del plazo de correlación.",
    "XDOC-COVE-VALUE": "Pedimento y COVE no coinciden en el valor de la factura o en la suma de las partidas.",
    "XDOC-COVE-INVOICE": "Pedimento y COVE no coinciden en la fecha de la factura.",
    "XDOC-COVE-PARTY": "Pedimento y COVE no coinciden en el RFC o el nombre del importador/exportador o del "
                       "proveedor/comprador.",
    "XDOC-COVE-OPERATION": "Pedimento y COVE no coinciden en el tipo de operación (importación/exportación).",
    "XDOC-COVE-PATENTE": "La patente del pedimento no está entre las patentes del COVE.",
    "XDOC-COVE-CURRENCY": "Pedimento y COVE no coinciden en la moneda de la factura.",
    "XDOC-CFDI-VALUE": "Pedimento de exportación y CFDI no coinciden en el valor en dólares o en la moneda.",
    "XDOC-CFDI-FRACCION": "Una fracción del complemento de Comercio Exterior no está en ninguna partida del "
                          "pedimento.",
    "XDOC-CFDI-QTY": "Pedimento de exportación y CFDI no coinciden en la cantidad o unidad (UMT) de una fracción.",
    "XDOC-CFDI-PARTY": "El RFC del exportador en el pedimento no es el del emisor del CFDI.",
    "XDOC-CFDI-INCOTERM": "Pedimento y CFDI no coinciden en el INCOTERM.",
    "XDOC-FX": "El tipo de cambio del CFDI difiere del del pedimento más de la tolerancia configurada.",
    "XDOC-UNCLAIMED": "Ningún pedimento declaró este COVE o CFDI de exportación dentro del plazo; se entregó sin "
                      "cruzarlo.",
    "XDOC-GROUP": "Se rechazó junto con su grupo de documentos relacionados porque otro miembro no coincide; "
                  "corrija el documento que tiene el error.",
    "CFDI-FIELD": "Un campo del CFDI falta, sobra donde el SAT lo prohíbe o está mal escrito (matriz de errores "
                  "del SAT).",
    "CFDI-CATALOG": "Un valor del CFDI no está en su catálogo del SAT o no corresponde a sus columnas.",
    "CFDI-CATALOG-VIGENCIA": "Una clave del CFDI existe en el catálogo del SAT importado, pero no estaba vigente en la "
                             "Fecha de la factura (fechas de inicio y fin de vigencia del catálogo).",
    "CFDI-DECIMALS": "Un importe trae más decimales de los que permite la moneda o su Importe.",
    "CFDI-AMOUNT": "Un importe está fuera de los límites que el SAT calcula a partir de sus factores, o no es "
                   "mayor que cero.",
    "CFDI-TAXES": "Los impuestos de un concepto o del comprobante no son congruentes entre sí.",
    "CFDI-PEDIMENTO": "Un NumeroPedimento del CFDI no es válido (aviso: dígito de otro año).",
    "CCE-FIELD": "Un campo de Comercio Exterior 2.0 falta, sobra o está mal escrito (matriz del SAT).",
    "CCE-CATALOG": "Un valor de Comercio Exterior no está en los catálogos del SAT (domicilio, fracción, UMT).",
    "CCE-AMOUNT": "Un ValorDolares de Comercio Exterior no corresponde a los importes de los que se calcula.",
    "CCE-FIX": "El TipoCambioUSD difiere del tipo de cambio FIX de Banxico de la tabla configurada.",
    "SAT-LIST": "Un RFC, nombre, domicilio o régimen no coincide con las listas del SAT cargadas en el gateway.",
    "SAT-DATA-UNCHECKED": "Algunas reglas necesitan listas del SAT que no están cargadas en el gateway; no se "
                          "revisaron. Es un aviso: el administrador puede cargarlas.",
    "ARCHIVE-UNSAFE": "Se rechazó una entrada del ZIP (o el ZIP completo) por seguridad: bomba, límite, cifrado "
                      "o ruta peligrosa.",
    "SAT-METADATA": "Una fila del archivo de metadatos de la descarga masiva del SAT está mal formada.",
    "XDOC-CFDI-CANCELLED": "El pedimento declara una factura que el SAT reporta cancelada.",
    "CFDI-CANCELLED": "El SAT reporta la factura cancelada: no se entrega (o se revierte con un aviso).",
    "ARCHIVE-CORRUPT": "El ZIP está dañado (no se puede leer su índice): se rechaza completo.",
}


def explain(code: str, lang: str) -> str:
    if lang == "en":
        return CODES.get(code, "")
    return EXPLAIN_ES.get(code, "")


# libxml2's parser errors, as they reach an XML-MALFORMED message, in Spanish
_LIBXML2: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), s) for p, s in (
    (r"Premature end of data in tag ([\w:.-]+) line (\d+)", r"el archivo termina antes de cerrar la etiqueta \1 "
                                                       r"(abierta en la línea \2); parece cortado"),
    (r"Opening and ending tag mismatch: ([\w:.-]+) line (\d+) and ([\w:.-]+)", r"la etiqueta \1 (línea \2) se cierra "
                                                                      r"como \3"),
    (r"EndTag: '</' not found", "falta el cierre de una etiqueta («</»)"),
    (r"Start tag expected, '<' not found", "no empieza con una etiqueta XML («<»)"),
    (r"Document is empty", "el documento está vacío"),
    (r"Extra content at the end of the document", "hay contenido después del final del documento"),
    (r"Couldn't find end of Start Tag ([\w:.-]+)(?: line (\d+))?", r"no se encontró el final de la etiqueta \1"),
    (r"AttValue: [\"' or]*expected", "falta la comilla de un valor de atributo (el archivo puede estar cortado)"),
    (r"attributes construct error", "un atributo está mal escrito"),
    (r"Attribute ([\w:.-]+) redefined", r"el atributo \1 está repetido"),
    (r"Unescaped '<' not allowed in attributes values", "hay un «<» sin escapar en el valor de un atributo"),
    (r"xmlParseEntityRef: no name", "hay un «&» sin escapar"),
    (r"EntityRef: expecting ';'", "hay un «&» sin escapar (falta «;»)"),
    (r"StartTag: invalid element name", "nombre de etiqueta no válido"),
    (r"Specification mandates value for attribute ([\w:.-]+)", r"el atributo \1 no tiene valor"),
    (r"Input is not proper UTF-8, indicate encoding !?", "el texto no es UTF-8 válido (indique la codificación)"),
    (r"Char 0x[0-9A-F]+ out of allowed range", "hay un carácter no permitido en XML"),
    (r"XML declaration allowed only at the start of the document", "la declaración <?xml …?> no está al inicio"),
    (r"Namespace prefix ([\w:.-]+) (?:on ([\w:.-]+) )?is not defined",
     r"el prefijo de espacio de nombres \1 no está declarado"),
    (r"expected '>'", "falta «>»"),
    (r", line (\d+), column (\d+)", r", línea \1, columna \2"),
))
_MACHINE: tuple[tuple[re.Pattern[str], str | None], ...] = tuple((re.compile(p), s) for p, s in (
    (r"\s*\(--reason\)", ""),
    (r"use 'queue retry' para", "use «Reintentar» para"),
    (r"use 'queue replace'", "use «Reemplazar»"),
    (r"\(falta validation\.sat_rfc_list\)", "(falta la lista l_RFC del SAT)"),
    (r"\(falta validation\.sat_lco_list\)", "(falta la lista LCO del SAT)"),
    (r"\(falta validation\.fix_rates\)", "(falta la tabla de tipos de cambio FIX de Banxico)"),
    (r"\(falta validation\.tigie_fracciones\)", "(falta el catálogo de fracciones de la TIGIE)"),
    (r"en estado '(\w+)'", None),  # states: see for_operator
))
_AMOUNT = re.compile(r"(?<![\w.,/:-])(\d{4,15})(\.\d{1,6})(?![\w/:-]|[.,]\d)")


def thousands(text: str) -> str:
    """``12500.50`` → ``12,500.50``: decimal amounts in a message get thousands separators (whole numbers —
    pedimento numbers, fracciones, lines — are left as they are)."""
    return _AMOUNT.sub(lambda m: f"{int(m.group(1)):,}{m.group(2)}", text)


def for_operator(message: str, lang: str = "es", state_label: object = None) -> str:
    """A finding's (or a refusal's) message as the page shows it."""
    if "bien formado" in message or "not well-formed" in message:
        for pattern, spanish in _LIBXML2:
            message = pattern.sub(spanish, message)
    for pattern, replacement in _MACHINE:
        if replacement is not None:
            message = pattern.sub(replacement, message)
        elif callable(state_label):
            message = pattern.sub(lambda m: f"en estado «{state_label(m.group(1))}»", message)
    return thousands(message)
