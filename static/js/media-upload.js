// Uploading pictures and sound: several files at once, each with its own progress bar and its own answer.
// On the media library (a form marked data-media-upload, and the whole page as a drop zone) and in the trail
// editors (files dropped onto the Markdown are uploaded, and their reference written in at the cursor).
// Without this script the library's form still posts and the page says what became of each file.
(() => {
  "use strict";

  const csrfToken = () => {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  };

  const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");

  // One file, one request: resolves with the stored asset, or rejects with a message naming what went wrong.
  const send = (url, file, row) =>
    new Promise((resolve, reject) => {
      const data = new FormData();
      data.append("files", file, file.name);
      const request = new XMLHttpRequest();
      request.open("POST", url);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRFToken", csrfToken());
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) row.progress.value = Math.round((100 * event.loaded) / event.total);
      });
      request.upload.addEventListener("load", () => {
        row.progress.removeAttribute("value"); // sent: an indeterminate bar while the server makes its copies
        row.say("Processing…");
      });
      request.addEventListener("load", () => {
        let body = null;
        try {
          body = JSON.parse(request.responseText);
        } catch (error) {
          body = null;
        }
        if (request.status === 201 && body && body.assets && body.assets.length) resolve(body.assets[0]);
        else if (body && body.error) reject(new Error(body.error.message));
        else if (request.status === 413) reject(new Error("The file is larger than the server accepts."));
        else reject(new Error(`The server answered ${request.status}: try again in a moment.`));
      });
      request.addEventListener("error", () => reject(new Error("The connection failed: nothing was stored.")));
      request.send(data);
    });

  // A line in a list of uploads: the file's name, its bar, and what became of it.
  const addRow = (list, file) => {
    const item = document.createElement("li");
    item.className = "upload";
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", `Uploading ${file.name}`);
    const status = document.createElement("span");
    status.className = "upload-status";
    status.textContent = "Waiting…";
    item.append(name, progress, status);
    list.append(item);
    return {
      progress,
      say(text, kind) {
        status.textContent = text;
        if (kind) item.classList.add(kind);
        if (kind) progress.remove();
      },
    };
  };

  // Files one after the other (a phone's uplink is shared by all of them anyway); each answer as it comes.
  const uploadAll = async (files, { url, list, max, onStored }) => {
    list.replaceChildren();
    if (files.length > max) {
      const item = document.createElement("li");
      item.className = "upload error";
      item.textContent = `That's ${files.length} files: upload at most ${max} at once. Nothing was uploaded.`;
      list.append(item);
      return 0;
    }
    const rows = files.map((file) => addRow(list, file));
    let stored = 0;
    for (const [index, file] of files.entries()) {
      rows[index].say("Uploading…");
      try {
        const asset = await send(url, file, rows[index]);
        rows[index].say(asset.name === file.name ? "Uploaded." : `Uploaded as ${asset.name}.`, "done");
        stored += 1;
        if (onStored) onStored(asset);
      } catch (error) {
        rows[index].say(`Not uploaded: ${error.message}`, "error");
      }
    }
    return stored;
  };

  // The media library: the form's own files, or files dropped anywhere on the page.
  const library = (form) => {
    const input = form.querySelector("input[type=file]");
    const list = form.querySelector("[data-upload-list]");
    const max = Number(form.dataset.maxFiles) || 20;
    const refresh = async () => {
      const target = document.getElementById("media-library");
      const response = await fetch(form.dataset.refresh, {
        headers: { "HX-Request": "true", "HX-Target": "media-library" },
      });
      if (response.ok && target) target.innerHTML = await response.text();
    };
    const start = async (files) => {
      if (!files.length) return;
      const stored = await uploadAll(files, { url: form.action, list, max });
      input.value = "";
      if (stored) await refresh();
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      start(Array.from(input.files));
    });
    document.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      document.body.classList.add("dropping");
    });
    document.addEventListener("dragleave", (event) => {
      if (!event.relatedTarget) document.body.classList.remove("dropping");
    });
    document.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      document.body.classList.remove("dropping");
      start(Array.from(event.dataTransfer.files));
    });
  };

  // An editor: files dropped onto the Markdown are uploaded, and each reference written in at the cursor, its
  // placeholder selected so the author types the alt text at once; the input event brings the preview along.
  const editor = (zone) => {
    const source = zone.querySelector("textarea");
    const list = zone.querySelector("[data-upload-list]");
    if (!source || !list || source.readOnly) return;
    // Where the next reference goes: the cursor at the drop, then after the reference written before it (not over
    // the placeholder left selected).
    let cursor = null;
    const insert = (asset) => {
      const [start, end] = cursor || [source.selectionStart, source.selectionEnd];
      const before = source.value.slice(0, start);
      const after = source.value.slice(end);
      // A picture is a paragraph of its own: blank lines around it unless there are some already.
      const lead = before === "" || before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
      const tail = after.startsWith("\n\n") ? "" : after.startsWith("\n") ? "\n" : "\n\n";
      source.setRangeText(lead + asset.reference + tail, start, end, "end");
      const done = start + lead.length + asset.reference.length;
      cursor = [done, done];
      const at = start + lead.length + asset.reference.indexOf(asset.placeholder);
      source.focus();
      source.setSelectionRange(at, at + asset.placeholder.length);
      source.dispatchEvent(new Event("input", { bubbles: true }));
    };
    source.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("dropping");
    });
    source.addEventListener("dragleave", () => zone.classList.remove("dropping"));
    source.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      zone.classList.remove("dropping");
      cursor = null;
      uploadAll(Array.from(event.dataTransfer.files), {
        url: zone.dataset.mediaDrop,
        list,
        max: Number(zone.dataset.maxFiles) || 20,
        onStored: insert,
      });
    });
  };

  const start = () => {
    document.documentElement.classList.add("can-drop"); // the hints that say files may be dropped show now
    document.querySelectorAll("form[data-media-upload]").forEach(library);
    document.querySelectorAll("[data-media-drop]").forEach(editor);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
