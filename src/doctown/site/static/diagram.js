// Draws the architecture diagram with the vendored Mermaid (static/mermaid.min.js, MIT, see
// mermaid.LICENSE.txt) under the site's Content-Security-Policy, which refuses inline styles.
// Mermaid writes its styles inline: while it draws, a `style` attribute becomes the same
// declarations set through CSSOM, and a <style> element a constructed stylesheet; neither is
// an inline style to the policy. The drawn element is then moved into the page, each node
// wrapped in a link to its cluster's page. Without JavaScript, or if drawing fails,
// the Mermaid source and the list of links below it stay on the page.
"use strict";

(function () {
  const source = document.getElementById("architecture-source");
  const target = document.getElementById("architecture");
  if (!source || !target || !window.mermaid) return;
  const SVG = "http://www.w3.org/2000/svg";
  const links = {};
  document.querySelectorAll("[data-diagram-node]").forEach((a) => {
    links[a.dataset.diagramNode] = a.getAttribute("href");
  });

  function adopt(css) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  }

  function isStyle(node) {
    return node instanceof Element && node.localName === "style";
  }

  const original = {
    setAttribute: Element.prototype.setAttribute,
    insertBefore: Node.prototype.insertBefore,
    appendChild: Node.prototype.appendChild,
  };

  function patch() {
    Element.prototype.setAttribute = function (name, value) {
      if (String(name).toLowerCase() === "style") {
        this.style.cssText = String(value);
        return;
      }
      return original.setAttribute.call(this, name, value);
    };
    Node.prototype.insertBefore = function (node, before) {
      if (isStyle(node)) {
        adopt(node.textContent || "");
        return node;
      }
      return original.insertBefore.call(this, node, before);
    };
    Node.prototype.appendChild = function (node) {
      if (isStyle(node)) {
        adopt(node.textContent || "");
        return node;
      }
      return original.appendChild.call(this, node);
    };
    Element.prototype.remove = function () {
      keep(this);
      return remove.call(this);
    };
    Node.prototype.removeChild = function (child) {
      keep(child);
      return removeChild.call(this, child);
    };
  }

  function unpatch() {
    Element.prototype.setAttribute = original.setAttribute;
    Node.prototype.insertBefore = original.insertBefore;
    Node.prototype.appendChild = original.appendChild;
    Element.prototype.remove = remove;
    Node.prototype.removeChild = removeChild;
  }

  // Mermaid draws into a temporary element, serialises it and removes it. The serialised text
  // would be parsed again (and its styles refused): the drawn element itself is kept instead.
  let drawn = null;
  const remove = Element.prototype.remove;
  const removeChild = Node.prototype.removeChild;
  function keep(element) {
    const svg = element instanceof Element && element.querySelector("svg#architecture-svg");
    if (svg) drawn = svg;
  }

  function place(svg) {
    svg.querySelectorAll("g.node").forEach((node) => {
      const match = /flowchart-(.+)-\d+$/.exec(node.id || "");
      const href = match && links[match[1]];
      if (!href) return;
      const anchor = document.createElementNS(SVG, "a");
      anchor.setAttribute("href", href);
      node.parentNode.insertBefore(anchor, node);
      anchor.appendChild(node);
    });
    target.appendChild(svg);
    target.hidden = false;
    source.hidden = true;
  }

  const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  // "loose" leaves out the sanitising pass over the whole drawing (a parse of its text that
  // the policy would object to). The source is the site's own: labels made of letters, digits
  // and a few signs (overviews/diagram.py), no click handlers, no HTML.
  window.mermaid.initialize({
    startOnLoad: false,
    securityLevel: "loose",
    theme: dark ? "dark" : "neutral",
    flowchart: { htmlLabels: false },
  });
  patch();
  window.mermaid
    .render("architecture-svg", source.textContent)
    .then(() => {
      unpatch();
      if (drawn) place(drawn);
    })
    .catch(() => unpatch());
})();
