<?cs # view.cs - the message after verification. Text parts are escaped
     line by line; HTML parts only ever appear in a sandboxed iframe whose
     document is served with Content-Security-Policy: sandbox. ?><h1><?cs var:Text.View.Heading ?></h1>
<dl class="headers">
<dt><?cs var:Text.View.From ?></dt><dd><?cs var:Msg.From ?></dd>
<dt><?cs var:Text.View.Date ?></dt><dd><?cs var:Msg.Date ?></dd>
<dt><?cs var:Text.View.Subject ?></dt><dd class="subject"><?cs var:Msg.Subject ?></dd>
</dl>
<?cs each:part = Parts ?><?cs if:part.Role == "text" ?><section class="part part-text" aria-label="<?cs var:Text.View.TextPart ?>">
<pre class="body"><?cs each:l = part.Lines ?><?cs var:l ?><?cs if:l.Br ?>
<?cs /if ?><?cs /each ?></pre>
<?cs if:part.Truncated ?><p class="note"><?cs var:Text.View.Truncated ?> <a href="<?cs var:part.DownloadUrl ?>"><?cs var:Text.View.DownloadText ?></a></p>
<?cs /if ?></section>
<?cs elif:part.Role == "html" ?><section class="part part-html">
<h2><?cs var:Text.View.Formatted ?></h2>
<iframe sandbox src="<?cs var:part.Url ?>" title="<?cs var:Text.View.FormattedTitle ?>"></iframe>
<p><a href="<?cs var:part.DownloadUrl ?>"><?cs var:Text.View.DownloadHtml ?></a></p>
</section>
<?cs /if ?><?cs /each ?><?cs if:Msg.HasAttachments ?><section class="attachments">
<h2><?cs var:Text.View.Attachments ?></h2>
<ul>
<?cs each:part = Parts ?><?cs if:part.Role == "attachment" ?><li><a href="<?cs var:part.Url ?>" download="<?cs var:part.Name ?>"><?cs var:part.Name ?></a> <span class="size">(<?cs var:part.Size ?>)</span></li>
<?cs /if ?><?cs /each ?></ul>
</section>
<?cs /if ?><?cs if:Msg.TooManyParts ?><p class="note"><?cs var:Text.View.TooMany ?></p>
<?cs /if ?><p class="original"><a href="<?cs var:Msg.EmlUrl ?>"><?cs var:Text.View.Original ?></a></p>
